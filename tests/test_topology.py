"""LabelHub on several app servers, started by the test: what a deployment past one machine is.

Two gunicorn servers on their own loopback ports behind nginx (Debian's package, run in the
foreground from a config written to a temporary folder), Redis for the rate-limit counters,
``manage.py db_worker`` as its own process, files in an S3 object store (moto's S3 server, a
separate process), all on the test's PostgreSQL database. Checked over real HTTP:

- a session made on one server is good on the other (sessions live in the database);
- a file uploaded through server A is served through server B, from the store;
- an export made by the worker downloads through either server;
- a contributor going through nginx, which alternates the servers, claims, saves drafts and
  submits with nothing lost;
- token writes are counted in Redis, so the limit holds across servers.
"""

import contextlib
import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from email.message import Message
from html import unescape

import pytest
from django.conf import settings
from django_tasks_db.models import DBTaskResult

from annotation.models import Annotation, Assignment, AssignmentStatus, ImportJob, Task
from exports.models import ExportJob, ExportStatus
from labelhub.accounts import api_token_issue
from labelhub.models import Role
from tests.annotation.test_queue_concurrency import database_url
from tests.exports.helpers import BBOX_SCHEMA, answer, settle
from tests.factories import PASSWORD, make_project, make_user
from tests.media import png_bytes
from tests.objectstore import bucket_keys, free_port, s3_server_process

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

NGINX = shutil.which("nginx") or next(
    (p for p in ("/usr/sbin/nginx", "/sbin/nginx") if os.path.exists(p)), None
)
REDIS_DB = 13  # a Redis database of this test's own, emptied when the topology starts
WRITE_RATE = 6  # token writes a minute in this topology, to see the shared counter


def redis_up() -> bool:
    with contextlib.suppress(OSError):
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
        return True
    return False


def wait_for_port(port: int, process: subprocess.Popen, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not start") from None
            time.sleep(0.05)


def stop(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


NGINX_CONF = """
worker_processes 1;
daemon off;
{user}
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log {tmp}/access.log;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    client_max_body_size 50m;
    upstream labelhub {{
        server 127.0.0.1:{a};
        server 127.0.0.1:{b};
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://labelhub;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            add_header X-Upstream $upstream_addr always;
        }}
    }}
}}
"""


@dataclass
class Topology:
    a: str
    b: str
    nginx: str
    s3: object
    bucket: str
    ports: dict


@pytest.fixture(scope="module")
def topology(django_db_setup, django_db_blocker):
    if NGINX is None:
        pytest.skip("nginx is not installed (Debian's package `nginx`; .ci/run installs it)")
    if not redis_up():
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    import redis

    redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB).flushdb()
    with django_db_blocker.unblock():
        db_url = database_url()
    processes: list[subprocess.Popen] = []
    tmp = tempfile.mkdtemp(prefix="labelhub-topology-")
    os.chmod(tmp, 0o755)  # noqa: S103 - nginx's workers may run as another user
    try:
        with s3_server_process() as s3:
            bucket = f"labelhub-{uuid.uuid4().hex[:12]}"
            s3.client().create_bucket(Bucket=bucket)
            env = {
                **os.environ,
                "DATABASE_URL": db_url,
                "DJANGO_SETTINGS_MODULE": "tests.settings",
                "PYTHONPATH": str(settings.BASE_DIR),
                "TEST_TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
                "REDIS_URL": f"redis://127.0.0.1:6379/{REDIS_DB}",
                "API_WRITE_RATE": f"{WRITE_RATE}/min",
                "LABELHUB_EXPORT_SYNC_LIMIT": "0",
                "SESSION_COOKIE_SECURE": "false",  # plain HTTP on loopback
                "CSRF_COOKIE_SECURE": "false",
                "MEDIA_STORAGE": "s3",
                "S3_BUCKET": bucket,
                "S3_ENDPOINT_URL": s3.endpoint,
                "S3_REGION": s3.region,
                "S3_ACCESS_KEY_ID": s3.key_id,
                "S3_SECRET_ACCESS_KEY": s3.secret,
                "S3_ADDRESSING_STYLE": "path",
            }
            ports = {"a": free_port(), "b": free_port(), "nginx": free_port()}
            for name in ("a", "b"):
                server = subprocess.Popen(
                    [sys.executable, "-m", "gunicorn", "config.wsgi:application",
                     "--bind", f"127.0.0.1:{ports[name]}", "--workers", "1",
                     "--worker-class", "gthread", "--threads", "4", "--log-level", "warning"],
                    cwd=settings.BASE_DIR, env=env, start_new_session=True,
                )  # fmt: skip
                processes.append(server)
                wait_for_port(ports[name], server, f"gunicorn {name}")
            worker = subprocess.Popen(
                [sys.executable, "manage.py", "db_worker", "--interval", "0.1"],
                cwd=settings.BASE_DIR, env=env, start_new_session=True,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            processes.append(worker)
            conf = os.path.join(tmp, "nginx.conf")
            with open(conf, "w") as handle:
                handle.write(
                    NGINX_CONF.format(
                        tmp=tmp, a=ports["a"], b=ports["b"], port=ports["nginx"],
                        user="user root;" if os.geteuid() == 0 else "",
                    )
                )  # fmt: skip
            nginx = subprocess.Popen(
                [NGINX, "-p", tmp, "-c", conf, "-e", os.path.join(tmp, "error.log")],
                start_new_session=True,
            )
            processes.append(nginx)
            wait_for_port(ports["nginx"], nginx, "nginx")
            yield Topology(
                a=f"http://127.0.0.1:{ports['a']}",
                b=f"http://127.0.0.1:{ports['b']}",
                nginx=f"http://127.0.0.1:{ports['nginx']}",
                s3=s3,
                bucket=bucket,
                ports=ports,
            )
    finally:
        for process in reversed(processes):
            stop(process)
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(autouse=True)
def worker_idle_after_each_test(topology):
    """The worker outlives each test; the test's database flush (TRUNCATE of every table) must
    not meet it in the middle of a judging run, whose row locks it would deadlock with."""
    yield
    wait_until(
        lambda: (
            not (
                DBTaskResult.objects.ready().exists()
                or DBTaskResult.objects.filter(status="RUNNING").exists()
            )
        ),
        what="the worker's queue",
    )


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@dataclass
class Answer:
    status: int
    headers: Message
    body: bytes

    def json(self):
        return json.loads(self.body)


class Browser:
    """A person's browser: one cookie jar, whichever server it talks to; redirects not followed."""

    def __init__(self) -> None:
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}),
            urllib.request.HTTPCookieProcessor(self.jar),
            _NoRedirects,
        )
        self.upstreams: list[str] = []

    def csrf(self) -> str:
        return next((c.value for c in self.jar if c.name == "csrftoken"), "")

    def call(self, method, url, *, form=None, body=None, headers=None, files=None) -> Answer:
        headers = dict(headers or {})
        data = None
        if files is not None:
            boundary = uuid.uuid4().hex
            parts = []
            for key, value in (form or {}).items():
                parts.append(
                    f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n'
                    f"{value}\r\n".encode()
                )
            for key, (name, content) in files.items():
                parts.append(
                    f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"; '
                    f'filename="{name}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
                    + content
                    + b"\r\n"
                )
            data = b"".join(parts) + f"--{boundary}--\r\n".encode()
            headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        elif form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if method != "GET":
            headers.setdefault("X-CSRFToken", self.csrf())
        request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310
        try:
            with self.opener.open(request, timeout=30) as response:
                answer = Answer(response.status, response.headers, response.read())
        except urllib.error.HTTPError as error:
            answer = Answer(error.code, error.headers, error.read())
        if answer.headers.get("X-Upstream"):
            self.upstreams.append(answer.headers["X-Upstream"])
        return answer

    def login(self, base: str, user) -> None:
        self.call("GET", f"{base}/accounts/login/")
        answer = self.call(
            "POST",
            f"{base}/accounts/login/",
            form={
                "username": user.username,
                "password": PASSWORD,
                "csrfmiddlewaretoken": self.csrf(),
            },
        )
        assert answer.status == 302, answer.body[:500]


def fetch(url: str) -> Answer:
    return Browser().call("GET", url)


def wait_until(check, seconds: float = 30, what: str = "the worker"):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what} did not finish in {seconds} s")


def people_and_project(**quality):
    manager, contributor = make_user(), make_user()
    project = make_project(
        kind="bbox",
        schema=BBOX_SCHEMA,
        members={manager: Role.MANAGER, contributor: Role.CONTRIBUTOR},
        quality=quality or None,
    )
    return project, manager, contributor


def test_sessions_live_in_the_database_so_either_server_knows_them(topology):
    assert settings.SESSION_ENGINE in (
        "django.contrib.sessions.backends.db",
        "django.contrib.sessions.backends.cache",
        "django.contrib.sessions.backends.cached_db",
    )
    _project, manager, _ = people_and_project()
    browser = Browser()
    browser.login(topology.a, manager)
    assert browser.call("GET", f"{topology.b}/").status == 200
    assert Browser().call("GET", f"{topology.b}/").status == 302  # without the session: log in


def test_a_file_uploaded_through_a_is_served_through_b_from_the_store(topology):
    project, manager, contributor = people_and_project()
    manager_browser = Browser()
    manager_browser.login(topology.a, manager)
    photo = png_bytes(320, 200).getvalue()
    page = manager_browser.call("GET", f"{topology.a}/projects/{project.pk}/tasks/")
    assert page.status == 200
    sent = manager_browser.call(
        "POST",
        f"{topology.a}/projects/{project.pk}/tasks/import/",
        form={"csrfmiddlewaretoken": manager_browser.csrf()},
        files={"files": ("street.png", photo)},
    )
    assert sent.status == 302, sent.body[:500]
    job = wait_until(
        lambda: ImportJob.objects.filter(project=project, status="done").first(),
        what="the import",
    )
    assert job.created == 1
    task = Task.objects.get(project=project)
    keys = bucket_keys(topology.s3.client(), topology.bucket)
    assert task.media.name in keys
    assert not [key for key in keys if f"projects/{project.pk}/imports/" in key]

    browser = Browser()
    browser.login(topology.b, contributor)
    served = browser.call("GET", f"{topology.b}{task.data['image']}")
    assert served.status == 302
    assert served.headers["Location"].startswith(topology.s3.endpoint)
    assert fetch(served.headers["Location"]).body == photo
    stranger = Browser().call("GET", f"{topology.b}{task.data['image']}")
    assert stranger.status == 404  # no role, no link
    assert "Location" not in stranger.headers


def test_an_export_made_by_the_worker_downloads_through_either_server(topology):
    project, manager, contributor = people_and_project()
    task = Task.objects.create(
        project=project, data={"image": "https://example.com/a.jpg", "width": 100, "height": 80}
    )
    result = {"boxes": [{"label": "cat", "x": 1, "y": 2, "w": 30, "h": 40}]}
    answer(task, contributor, result)
    settle(task, result)
    browser = Browser()
    browser.login(topology.a, manager)
    browser.call("GET", f"{topology.a}/projects/{project.pk}/export/")
    queued = browser.call(
        "POST",
        f"{topology.a}/projects/{project.pk}/export/",
        form={"format": "coco", "accepted_only": "on", "csrfmiddlewaretoken": browser.csrf()},
    )
    assert queued.status == 302, queued.body[:500]
    job = wait_until(
        lambda: ExportJob.objects.filter(project=project, status=ExportStatus.DONE).first(),
        what="the export job",
    )
    assert job.file.name in bucket_keys(topology.s3.client(), topology.bucket)
    for base in (topology.a, topology.b, topology.nginx):
        link = browser.call("GET", f"{base}/projects/{project.pk}/export/{job.pk}/download/")
        assert link.status == 302, base
        document = json.loads(fetch(link.headers["Location"]).body)
        assert [a["bbox"] for a in document["annotations"]] == [[1, 2, 30, 40]]


PANEL = re.compile(r'data-assignment="(\d+)" data-version="(\d+)"\s+data-draft-url="([^"]+)"')


def test_a_contributor_alternates_servers_through_nginx_and_nothing_is_lost(topology):
    project, _manager, contributor = people_and_project()
    tasks = [
        Task.objects.create(project=project, data={"image": f"https://example.com/{n}.jpg",
                                                   "width": 200, "height": 100})
        for n in range(3)
    ]  # fmt: skip
    browser = Browser()
    browser.login(topology.nginx, contributor)
    base = f"{topology.nginx}/projects/{project.pk}/label"
    submitted = {}
    for n in range(len(tasks)):
        assert browser.call("GET", f"{base}/").status == 200
        claimed = browser.call(
            "POST", f"{base}/next/", form={"csrfmiddlewaretoken": browser.csrf()}
        )
        assert claimed.status == 302
        page = browser.call("GET", f"{base}/")
        assignment, version, draft_url = PANEL.search(unescape(page.body.decode())).groups()
        box = {"label": "cat", "x": n, "y": 1, "w": 10 + n, "h": 5}
        for step in range(2):  # two drafts, each through the next server in turn
            draft = browser.call(
                "PUT",
                f"{topology.nginx}{draft_url}",
                body={"result": {"boxes": [box] * (step + 1)}, "version": int(version)},
            )
            assert draft.status == 200, draft.body[:300]
            version = draft.json()["version"]
        assert Assignment.objects.get(pk=assignment).draft == {"boxes": [box, box]}
        sent = browser.call(
            "POST",
            f"{base}/{assignment}/submit/",
            form={
                "result": json.dumps({"boxes": [box]}),
                "active_seconds": "12",
                "csrfmiddlewaretoken": browser.csrf(),
            },
        )
        assert sent.status == 302, sent.body[:300]
        submitted[int(assignment)] = box
    servers = {f"127.0.0.1:{topology.ports[name]}" for name in ("a", "b")}
    assert set(browser.upstreams) == servers  # nginx sent this person to both
    assert len(browser.upstreams) >= 3 * 6
    for assignment, box in submitted.items():
        row = Assignment.objects.get(pk=assignment)
        assert row.status == AssignmentStatus.SUBMITTED
        assert Annotation.objects.get(assignment=row).result == {"boxes": [box]}
    assert Annotation.objects.filter(task__project=project).count() == len(tasks)


def test_token_writes_are_counted_in_redis_across_servers(topology):
    project, manager, _ = people_and_project()
    token = api_token_issue(user=manager).key
    statuses = []
    for n in range(WRITE_RATE + 2):
        base = (topology.a, topology.b)[n % 2]
        statuses.append(
            Browser()
            .call(
                "POST",
                f"{base}/api/v1/projects/{project.pk}/tasks/",
                body=[{"data": {"image": f"https://example.com/{n}.jpg"}}],
                headers={"Authorization": f"Token {token}"},
            )
            .status
        )
    # Each server saw half of the writes: only a shared counter refuses the ones over the rate.
    assert statuses == [201] * WRITE_RATE + [429, 429]
