"""A kind is installed by its app: the registry reads ``task_kind`` from the installed apps."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import modify_settings, override_settings

import kinds
from kinds.bbox.apps import BboxConfig


@pytest.fixture(autouse=True)
def fresh_registry():
    kinds.registry.cache_clear()
    yield
    kinds.registry.cache_clear()


def test_the_installed_apps_bring_their_kinds_in_their_order():
    assert list(kinds.registry()) == [
        "bbox", "ranking", "transcription", "conversation", "rubric_eval", "trajectory",
        "environment",
    ]  # fmt: skip
    assert kinds.installed_paths()[0] == BboxConfig.task_kind == "kinds.bbox.kind.BoundingBoxKind"


def test_a_kind_whose_app_is_not_installed_is_unknown():
    with modify_settings(INSTALLED_APPS={"remove": ["kinds.ranking"]}):
        kinds.registry.cache_clear()
        assert "ranking" not in kinds.registry()
        assert kinds.find("ranking") is None
        assert ("ranking", "Preference ranking") not in kinds.choices()
        assert kinds.find("bbox") is not None


def test_the_setting_replaces_the_installed_list():
    with override_settings(LABELHUB_TASK_KINDS=["kinds.transcription.kind.TranscriptionKind"]):
        kinds.registry.cache_clear()
        assert list(kinds.registry()) == ["transcription"]


def test_two_kinds_of_one_name_are_refused():
    paths = ["kinds.bbox.kind.BoundingBoxKind", "kinds.bbox.kind.BoundingBoxKind"]
    with override_settings(LABELHUB_TASK_KINDS=paths), pytest.raises(ImproperlyConfigured):
        kinds.registry()
