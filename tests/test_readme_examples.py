"""The API examples run as written: a newcomer's first script must not fail.

The shell example is the "API in five minutes" of ``docs/api.md`` (each ``curl`` with its path and
``-d`` body), sent through the API in order; the Python example is the README's "API in five
minutes" (the client, ``labelhub_client``), executed against a live server. Only the host, the
token and the ids of what the examples created are put in.
"""

import hashlib
import hmac
import json
import re
import socket
import time
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from annotation.models import Task
from labelhub.accounts import api_token_issue
from labelhub.models import OrganizationMember, Project
from tests.factories import PASSWORD, make_organization, make_user

ROOT = Path(__file__).resolve().parent.parent
MANUAL = (ROOT / "docs" / "api.md").read_text()
SECTION = MANUAL.split("## API in five minutes", 1)[1].split("\n## ", 1)[0]
SHELL = re.search(r"```sh\n(.*?)```", SECTION, re.S).group(1)
README = (ROOT / "README.md").read_text()
README_SECTION = README.split("## API in five minutes", 1)[1].split("\n## ", 1)[0]
PYTHON = re.search(r"```python\n(.*?)```", README_SECTION, re.S).group(1)
# example.com is what the examples post as callback host; DNS is outside LabelHub (and this
# machine has none), so it answers with example.com's public address.
EXAMPLE_ADDRESS = "93.184.215.14"


@pytest.fixture
def example_com_resolves(monkeypatch):
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host == "example.com":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (EXAMPLE_ADDRESS, port or 443))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture
def admin():
    org = make_organization("Acme")
    user = make_user("ana", organization=org)
    OrganizationMember.objects.filter(user=user).update(is_admin=True)
    return user


def shell_calls() -> list[tuple[str, str, str | None]]:
    """(method, path, body) of each curl in the manual's shell example."""
    calls = []
    for command in re.split(r"\n(?=\S)", SHELL):
        if "curl" not in command or command.lstrip().startswith("#"):
            continue
        path = re.search(r"http://localhost:8000(/api/v1/[^\s'\"]*)", command).group(1)
        if path == "/api/v1/auth/token/":  # a form post of username and password: done first
            continue
        body = re.search(r"-d '(.*?)'", command, re.S)
        calls.append(("POST" if body else "GET", path, body.group(1) if body else None))
    return calls


@pytest.mark.django_db
@pytest.mark.usefixtures("example_com_resolves")
def test_the_shell_example_runs_as_written(admin):
    calls = shell_calls()
    assert len(calls) >= 4, SHELL
    client = APIClient()
    token = client.post("/api/v1/auth/token/", {"username": "ana", "password": PASSWORD})
    assert token.status_code == 200
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.json()['token']}")
    ids = {"projects": None, "tasks": None}
    for method, path, body in calls:
        for kind, pk in ids.items():
            if pk is not None:
                path = re.sub(rf"/{kind}/1/", f"/{kind}/{pk}/", path)
        if method == "POST":
            response = client.post(path, json.loads(body), format="json")
            assert response.status_code == 201, (path, response.content)
        else:
            response = client.get(path)
            assert response.status_code == 200, (path, response.content)
        if path == "/api/v1/projects/":
            ids["projects"] = response.json()["id"]
        elif path.endswith("/tasks/") and method == "POST":
            ids["tasks"] = Task.objects.get(external_id="img-1").pk
    task = Task.objects.get(external_id="img-1")
    assert task.callback_url == "https://example.com/hooks/labelhub"
    project = task.project
    assert project.schema["labels"][0] == {
        "name": "cat",
        "colour": "#ff0000",
        "color": "#ff0000",
        "hotkey": 1,
    }
    assert project.quality["review_policy"] == "adaptive"


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("example_com_resolves")
def test_the_python_example_runs_as_written(admin, live_server, tmp_path, monkeypatch):
    token = api_token_issue(user=admin).key
    source = PYTHON.replace('"http://localhost:8000"', repr(live_server.url))
    source = source.replace('"…"', repr(token), 1)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(source, "README.md (python example)", "exec"), namespace)  # noqa: S102
    namespace["client"].close()  # its kept-alive connection ends before the live server does
    project = Project.objects.get(name="Cats")
    assert project.tasks.get().external_id == "img-1"
    assert project.quality["overlap"] == 2
    coco = json.loads((tmp_path / "cats.json").read_text())
    assert coco["categories"][0]["name"] == "cat"
    body = b'{"event": "task.accepted", "result": {}, "delivery_id": 41}'
    headers = {"X-LabelHub-Timestamp": str(int(time.time())), "X-LabelHub-Delivery": "41"}
    message = headers["X-LabelHub-Timestamp"].encode() + b"." + body
    digest = hmac.new(b"s3cret", message, hashlib.sha256).hexdigest()
    headers["X-LabelHub-Signature"] = "sha256=" + digest
    assert namespace["on_webhook"]("s3cret", headers, body) == ("41", json.loads(body))
    headers["X-LabelHub-Signature"] = "sha256=" + "0" * 64
    with pytest.raises(Exception, match="signature"):
        namespace["on_webhook"]("s3cret", headers, body)
