import pytest
from django.test import override_settings

from labelhub import kinds
from tests.annotation.kinds import TEST_KINDS


@pytest.fixture(autouse=True)
def exact_kind():
    """Register the test kind ``exact`` for every test in this folder."""
    with override_settings(LABELHUB_TASK_KINDS=TEST_KINDS):
        kinds.registry.cache_clear()
        yield
    kinds.registry.cache_clear()
