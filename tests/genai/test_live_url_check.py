"""A live model's URL is checked when it is saved, as model backends' are (issue #24, item 8),
and no refusal says what a host resolved to (a manager could look up internal names with it)."""

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.urls import reverse

from annotation.webhooks import DeliveryRefused, destination_check
from backends.services import backend_save
from genai.models import LiveModel
from genai.services import live_model_save
from labelhub.models import Role
from tests.factories import make_project, make_user
from tests.network import FakeNetwork

pytestmark = pytest.mark.django_db
GUARDED = override_settings(
    LIVE_MODEL_ALLOW_PRIVATE_ADDRESSES=False, MODEL_BACKENDS_ALLOW_PRIVATE_ADDRESSES=False
)


def _save(project, manager, base_url):
    return live_model_save(
        project=project,
        actor=manager,
        enabled=True,
        base_url=base_url,
        model="m",
        temperature=0.5,
        max_tokens=100,
    )


@GUARDED
def test_a_loopback_link_local_or_private_model_url_is_refused_at_save(client, monkeypatch):
    network = FakeNetwork(monkeypatch)
    network.name("models.internal.example", ["10.20.30.40"])
    network.name("models.example.com", ["93.184.215.14"])
    maria = make_user("maria")
    project = make_project(kind="conversation", members={maria: Role.MANAGER})
    for url in (
        "http://127.0.0.1:8000/v1",
        "http://169.254.169.254/v1",
        "http://models.internal.example/v1",
    ):
        with pytest.raises(ValidationError) as caught:
            _save(project, maria, url)
        assert "base_url" in caught.value.message_dict, url
    assert not LiveModel.objects.exists()
    # the page says why, next to the field, and stores nothing
    client.force_login(maria)
    page = client.post(
        reverse("genai:model-settings", args=[project.pk]),
        {
            "enabled": "on",
            "base_url": "http://models.internal.example/v1",
            "model": "m",
            "temperature": "0.3",
            "max_tokens": "200",
        },
    )
    assert page.status_code == 422
    text = page.content.decode()
    assert "models.internal.example is not an allowed address" in text
    assert "10.20.30.40" not in text
    assert not LiveModel.objects.exists()
    assert _save(project, maria, "https://models.example.com/v1").base_url.endswith("/v1")


@GUARDED
def test_no_refusal_names_the_address_a_host_resolved_to(monkeypatch):
    network = FakeNetwork(monkeypatch)
    network.name("db.corp.example", ["192.168.7.9"])
    with pytest.raises(DeliveryRefused) as caught:
        destination_check("http://db.corp.example/hook")
    assert str(caught.value).startswith("db.corp.example is not an allowed address")
    assert "192.168.7.9" not in str(caught.value)
    maria = make_user("maria")
    project = make_project(members={maria: Role.MANAGER})
    with pytest.raises(ValidationError) as backend:
        backend_save(project=project, name="b", url="http://db.corp.example/")
    assert "192.168.7.9" not in str(backend.value)


@GUARDED
def test_a_name_that_does_not_resolve_is_refused_in_the_same_words_as_an_internal_one(
    monkeypatch,
):
    """Else "does not resolve" against "not allowed" tells whoever may save a URL which internal
    names exist (issue #24, item 8)."""
    network = FakeNetwork(monkeypatch)
    network.name("db.corp.example", ["192.168.7.9"])
    refusals = {}
    for host in ("db.corp.example", "nothing.corp.example"):
        with pytest.raises(DeliveryRefused) as caught:
            destination_check(
                f"http://{host}/hook", allow_private=False, called="calls to the model"
            )
        refusals[host] = str(caught.value).replace(host, "<host>")
    assert refusals["db.corp.example"] == refusals["nothing.corp.example"]
    assert refusals["db.corp.example"] == (
        "<host> is not an allowed address: calls to the model only go to hosts with public "
        "addresses."
    )
