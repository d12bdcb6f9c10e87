"""A read replica: the router's choice per view, and a real streaming replica behind a server.

The first tests ask the router directly which database a read goes to. The last one makes a
streaming replica of the test PostgreSQL with ``pg_basebackup`` on another port, starts gunicorn
with ``DATABASE_REPLICA_URL`` pointing at it, pauses the replica's replay so that it is visibly
behind, and shows over HTTP that the task list comes from the replica while the queue and a
manager who has just written read the primary.
"""

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django.http import HttpResponse, StreamingHttpResponse
from django.test import RequestFactory
from django.urls import resolve

from annotation.models import Annotation, Task
from config import db_router
from config.db_router import PIN_COOKIE, ReplicaReadsMiddleware, ReplicaRouter
from labelhub.models import AuditEvent, Project, Role
from tests.factories import make_project, make_user
from tests.objectstore import free_port
from tests.test_topology import Browser, stop, wait_for_port

router = ReplicaRouter()


@pytest.fixture
def with_replica(monkeypatch):
    monkeypatch.setattr(db_router, "replica_configured", lambda: True)


def choices(method: str, path: str, *, cookies=None, then=None) -> list[str]:
    """The router's choice for a read in a request to ``path``, before and after ``then``."""
    seen = []
    request = getattr(RequestFactory(), method.lower())(path)
    request.COOKIES.update(cookies or {})
    request.resolver_match = resolve(path)
    middleware = None

    def view(request):
        middleware.process_view(request, None, (), {})
        seen.append(router.db_for_read(Task))
        if then is not None:
            then()
            seen.append(router.db_for_read(Task))
        return HttpResponse()

    middleware = ReplicaReadsMiddleware(view)
    response = middleware(request)
    seen.append("pin" if PIN_COOKIE in response.cookies else "no pin")
    return seen


def test_heavy_read_only_screens_read_the_replica(with_replica):
    for method, path in [
        ("GET", "/projects/1/quality/"),
        ("GET", "/projects/1/tasks/"),
        ("GET", "/projects/1/export/"),
        ("POST", "/projects/1/export/"),
        ("GET", "/api/v1/projects/1/tasks/"),
        ("GET", "/api/v1/projects/1/export/"),
    ]:
        assert choices(method, path) == ["replica", "no pin"], (method, path)


def test_the_queue_submits_reviews_and_imports_read_the_primary(with_replica):
    for method, path in [
        ("POST", "/api/v1/projects/1/next/"),
        ("POST", "/api/v1/assignments/1/submit/"),
        ("GET", "/projects/1/label/"),
        ("POST", "/projects/1/label/next/"),
        ("GET", "/projects/1/reviews/1/"),
        ("POST", "/api/v1/projects/1/tasks/"),
        ("POST", "/projects/1/tasks/bulk/"),
        ("GET", "/projects/1/"),
    ]:
        assert choices(method, path)[0] == "default", (method, path)
    assert router.db_for_read(Task) == "default"  # outside a request (the worker, commands)
    assert router.db_for_write(Task) == "default"


def test_a_write_pins_the_rest_of_the_request_and_the_next_ones_to_the_primary(with_replica):
    write = lambda: router.db_for_write(Project)  # noqa: E731
    assert choices("POST", "/projects/1/export/", then=write) == ["replica", "default", "pin"]
    # The cookie sends the browser's next requests to the primary, for a few seconds.
    assert choices("GET", "/projects/1/quality/", cookies={PIN_COOKIE: "1"}) == [
        "default",
        "no pin",
    ]
    # A POST outside the read-only views pins whatever it ran (an import writes with raw COPY).
    assert choices("POST", "/api/v1/projects/1/tasks/") == ["default", "pin"]
    # An export's audit row is no reason to read the primary.
    audit = lambda: router.db_for_write(AuditEvent)  # noqa: E731
    assert choices("GET", "/api/v1/projects/1/export/", then=audit) == [
        "replica",
        "replica",
        "no pin",
    ]


def test_a_streamed_export_reads_the_replica_after_its_view_returned(with_replica):
    seen = []

    def chunks():
        seen.append(router.db_for_read(Annotation))
        yield b"x"

    request = RequestFactory().get("/api/v1/projects/1/export/")
    request.resolver_match = resolve(request.path)
    middleware = ReplicaReadsMiddleware(lambda request: StreamingHttpResponse(chunks()))

    def view(request):
        middleware.process_view(request, None, (), {})
        return StreamingHttpResponse(chunks())

    middleware.get_response = view
    assert b"".join(middleware(request).streaming_content) == b"x"
    assert seen == ["replica"]


# --- a real streaming replica ----------------------------------------------------------------


def _pg_bin(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    if not versions:
        pytest.skip(f"{name} is not installed")
    return str(versions[-1])


def _as_postgres(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: as root, run it as the postgres user."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def primary_lsn() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()")
        return cursor.fetchone()[0]


@pytest.fixture(scope="module")
def replica(django_db_setup, django_db_blocker):
    """A hot standby of the test PostgreSQL on a free loopback port; stopped and removed after."""
    with django_db_blocker.unblock():
        primary = connection.settings_dict
    host, port = primary["HOST"] or "127.0.0.1", str(primary["PORT"] or 5432)
    folder = tempfile.mkdtemp(prefix="labelhub-replica-")
    data = os.path.join(folder, "data")
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    backup = subprocess.run(
        _as_postgres(
            [_pg_bin("pg_basebackup"), "-h", host, "-p", port, "-U", primary["USER"] or "postgres",
             "-D", data, "-X", "stream", "-c", "fast", "-R"]
        ),
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if backup.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        pytest.skip(
            "pg_basebackup was refused; allow replication from 127.0.0.1 in pg_hba.conf "
            f"(`host replication all 127.0.0.1/32 trust`, then a reload; .ci/run does): "
            f"{backup.stderr.strip()[:300]}"
        )
    replica_port = free_port()
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        # A hot standby needs at least the primary's values of these.
        limits = {}
        for name in ("max_connections", "max_worker_processes", "max_prepared_transactions",
                     "max_locks_per_transaction", "max_wal_senders"):  # fmt: skip
            cursor.execute(f"SHOW {name}")
            limits[name] = cursor.fetchone()[0]
    conf = {
        "port": replica_port,
        "listen_addresses": "'127.0.0.1'",
        "unix_socket_directories": f"'{folder}'",
        "hba_file": f"'{data}/pg_hba.conf'",
        "ident_file": f"'{data}/pg_ident.conf'",
        "hot_standby": "on",
        "shared_buffers": "'32MB'",
        "fsync": "off",
        **limits,
    }
    Path(data, "postgresql.conf").write_text(
        "".join(f"{key} = {value}\n" for key, value in conf.items())
    )
    Path(data, "pg_hba.conf").write_text("local all all trust\nhost all all 127.0.0.1/32 trust\n")
    Path(data, "pg_ident.conf").write_text("")
    if os.geteuid() == 0:
        for path in (folder, data, *Path(data).iterdir()):
            shutil.chown(path, "postgres")
    pg_ctl = _pg_bin("pg_ctl")
    subprocess.run(
        _as_postgres([pg_ctl, "-D", data, "-l", f"{folder}/log", "-w", "-t", "60", "start"]),
        check=True, capture_output=True,
    )  # fmt: skip
    try:
        yield {"port": replica_port, "name": primary["NAME"], "user": primary["USER"] or "postgres"}
    finally:
        subprocess.run(
            _as_postgres([pg_ctl, "-D", data, "-m", "immediate", "-w", "stop"]),
            check=False, capture_output=True,
        )  # fmt: skip
        shutil.rmtree(folder, ignore_errors=True)


def replica_sql(replica, sql: str):
    with psycopg.connect(
        host="127.0.0.1", port=replica["port"], user=replica["user"], dbname=replica["name"],
        autocommit=True,
    ) as conn:  # fmt: skip
        return conn.execute(sql).fetchone()


def caught_up(replica) -> None:
    target = primary_lsn()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        replayed = replica_sql(replica, "SELECT pg_last_wal_replay_lsn()")[0]
        done = replica_sql(replica, f"SELECT pg_wal_lsn_diff('{replayed}', '{target}') >= 0")[0]
        if done:
            return
        time.sleep(0.05)
    raise AssertionError("the replica did not catch up")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_streaming_replica_serves_the_task_list_and_a_manager_reads_their_own_write(replica):
    from tests.annotation.test_queue_concurrency import database_url

    manager, other_manager, contributor = make_user(), make_user(), make_user()
    project = make_project(
        kind="ranking",
        members={manager: Role.MANAGER, other_manager: Role.MANAGER,
                 contributor: Role.CONTRIBUTOR},
    )  # fmt: skip
    for n in range(3):
        Task.objects.create(
            project=project, priority=0,
            data={"prompt": f"Q{n}", "responses": [{"id": "a", "text": "A"},
                                                     {"id": "b", "text": "B"}]},
        )  # fmt: skip
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DATABASE_REPLICA_URL": (
            f"postgres://{replica['user']}@127.0.0.1:{replica['port']}/{replica['name']}"
        ),
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "PYTHONPATH": str(settings.BASE_DIR),
        "TEST_TASKS_BACKEND": "django.tasks.backends.dummy.DummyBackend",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind",
         f"127.0.0.1:{port}", "--workers", "1", "--threads", "2", "--log-level", "warning"],
        cwd=settings.BASE_DIR, env=env, start_new_session=True,
    )  # fmt: skip
    paused = False
    try:
        wait_for_port(port, server, "gunicorn")
        base = f"http://127.0.0.1:{port}"
        browsers = {}
        for user in (manager, other_manager, contributor):
            browsers[user] = Browser()
            browsers[user].login(base, user)
            # Logging in wrote (last_login): its pin is dropped here as if its seconds were up.
            for cookie in list(browsers[user].jar):
                if cookie.name == PIN_COOKIE:
                    browsers[user].jar.clear(cookie.domain, cookie.path, cookie.name)
        caught_up(replica)
        replica_sql(replica, "SELECT pg_wal_replay_pause()")
        paused = True
        # Someone else adds a task on the primary: the paused replica does not have it.
        newest = Task.objects.create(
            project=project, priority=5,
            data={"prompt": "new", "responses": [{"id": "a", "text": "A"},
                                                  {"id": "b", "text": "B"}]},
        )  # fmt: skip
        tasks_url = f"{base}/api/v1/projects/{project.pk}/tasks/"
        listed = browsers[manager].call("GET", tasks_url)
        assert listed.status == 200
        assert listed.json()["count"] == 3  # the router chose the replica
        assert browsers[manager].call("GET", f"{base}/projects/{project.pk}/quality/").status == 200

        # The queue reads the primary: the contributor is handed the task the replica lacks.
        claimed = browsers[contributor].call("POST", f"{base}/api/v1/projects/{project.pk}/next/")
        assert claimed.status == 200, claimed.body[:300]
        assert claimed.json()["task"]["id"] == newest.pk

        # The manager writes (imports a task), then reads: both tasks are there, from the primary.
        sent = browsers[manager].call(
            "POST",
            tasks_url,
            body=[{"data": {"prompt": "mine", "responses": [{"id": "a", "text": "A"},
                                                             {"id": "b", "text": "B"}]}}],
        )  # fmt: skip
        assert sent.status == 201, sent.body[:300]
        assert any(cookie.name == PIN_COOKIE for cookie in browsers[manager].jar)
        assert browsers[manager].call("GET", tasks_url).json()["count"] == 5
        # Someone who wrote nothing still reads the replica, which is still behind.
        assert browsers[other_manager].call("GET", tasks_url).json()["count"] == 3

        replica_sql(replica, "SELECT pg_wal_replay_resume()")
        paused = False
        caught_up(replica)
        assert browsers[other_manager].call("GET", tasks_url).json()["count"] == 5
    finally:
        if paused:
            with contextlib.suppress(psycopg.Error):
                replica_sql(replica, "SELECT pg_wal_replay_resume()")
        stop(server)
