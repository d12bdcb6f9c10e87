import pytest
from django.test import override_settings

import kinds
from tests.annotation.kinds import kinds_with_exact


@pytest.fixture(autouse=True)
def exact_kind():
    """Register the test kind ``exact`` for every test in this folder."""
    with override_settings(LABELHUB_TASK_KINDS=kinds_with_exact()):
        kinds.registry.cache_clear()
        yield
    kinds.registry.cache_clear()
