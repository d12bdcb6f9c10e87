"""A live LabelHub for the client's tests: pytest-django's live server (a real HTTP server on a
loopback port, in a thread of the test process, on the test database), people with tokens, and
small loopback helpers: a proxy that cuts a download in the middle, a webhook receiver."""

import contextlib
import http.server
import json
import socket
import threading
from dataclasses import dataclass, field

import httpx
import pytest
from django.db import connections
from labelhub_client import Client

from labelhub.accounts import api_token_issue
from labelhub.models import OrganizationMember
from tests.factories import make_organization, make_user

QUALITY = {
    "overlap": 1,
    "review_policy": "none",
    "gold_rate": 0,
    "qualification_tasks": 0,
}
SCHEMA = {"media": "image", "normalisation": [], "segments": False}


@dataclass
class Server:
    url: str
    organization: str
    manager_token: str
    contributor_token: str
    contributor: str


@pytest.fixture
def _short_lived_connections():
    """The live server's request threads close their database connection after each request
    (PostgreSQL's CONN_MAX_AGE would keep one per thread open past the test, and the test
    database could not be dropped at the end)."""
    config = connections.settings["default"]
    if config["ENGINE"] != "django.db.backends.postgresql":
        yield  # SQLite: the live server shares the test's one connection; nothing to close
        return
    kept = config.get("CONN_MAX_AGE", 0)
    config["CONN_MAX_AGE"] = 0
    yield
    config["CONN_MAX_AGE"] = kept


@pytest.fixture
def server(live_server, settings, _short_lived_connections):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    settings.LABELHUB_RESULTS_SETTLE_SECONDS = 0
    settings.API_WRITE_RATE = "off"
    opened: list[Client] = []
    original_init = Client.__init__

    def tracked_init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        opened.append(self)

    Client.__init__ = tracked_init
    organization = make_organization()
    manager = make_user()
    OrganizationMember.objects.create(organization=organization, user=manager, is_admin=True)
    contributor = make_user(organization=organization)
    yield Server(
        url=live_server.url,
        organization=organization.slug,
        manager_token=api_token_issue(user=manager).key,
        contributor_token=api_token_issue(user=contributor).key,
        contributor=contributor.username,
    )
    # Each client's kept-alive connections end with the test, not after the live server's
    # database was handed back (a request thread closing then fails on SQLite).
    Client.__init__ = original_init
    for client in opened:
        client.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class CuttingProxy:
    """A TCP proxy on loopback in front of the server. ``cut_download_after(n)``: the next export
    download through it is cut after ``n`` bytes of its answer (both sockets closed), as a
    dropped network would."""

    def __init__(self, target: str) -> None:
        host, port = target.removeprefix("http://").split(":")
        self.target = (host, int(port))
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.cut_after: int | None = None
        self.cuts = 0
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def cut_download_after(self, n: int) -> None:
        self.cut_after = n

    def close(self) -> None:
        self.listener.close()

    def _accept(self) -> None:
        while True:
            try:
                downstream, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            state = {"budget": None}
            threading.Thread(
                target=self._requests, args=(downstream, upstream, state), daemon=True
            ).start()
            threading.Thread(
                target=self._answers, args=(upstream, downstream, state), daemon=True
            ).start()

    def _requests(self, source, sink, state) -> None:
        try:
            while chunk := source.recv(65536):
                if b"/download/" in chunk and self.cut_after is not None:
                    with self.lock:
                        state["budget"], self.cut_after = self.cut_after, None
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            _close(sink)

    def _answers(self, source, sink, state) -> None:
        try:
            while chunk := source.recv(65536):
                budget = state["budget"]
                if budget is not None:
                    if len(chunk) >= budget:
                        sink.sendall(chunk[:budget])
                        self.cuts += 1
                        break
                    state["budget"] = budget - len(chunk)
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            _close(sink)
            _close(source)


def _close(sock) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


@pytest.fixture
def cutting_proxy(server):
    proxy = CuttingProxy(server.url)
    yield proxy
    proxy.close()


@dataclass
class Receiver:
    url: str
    deliveries: list = field(default_factory=list)


@pytest.fixture
def webhook_receiver():
    """An HTTP server on loopback that keeps every POST (headers and raw body) and answers 200."""
    received: list = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((dict(self.headers.items()), body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield Receiver(url=f"http://127.0.0.1:{httpd.server_address[1]}/hook", deliveries=received)
    httpd.shutdown()
    httpd.server_close()


def dumps(value) -> str:
    return json.dumps(value, sort_keys=True)


class FlakyProxy:
    """An HTTP proxy on loopback in front of the server that misbehaves on cue: ``plan(fragment,
    [...])`` makes the next requests whose path contains ``fragment`` answer, in turn, a status
    (``503``, ``429``: with ``Retry-After: 0``) or ``("cut", n)`` (forward, but close the
    connection after ``n`` bytes of the body); once the plan is used up they are forwarded.
    ``seen`` lists ``(method, path, Range header, what was done)`` for every request."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.plans: dict[str, list] = {}
        self.seen: list[tuple[str, str, str, str]] = []
        self.lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                action = proxy._next_action(self.path)
                proxy.seen.append(
                    (self.command, self.path, self.headers.get("Range", ""), str(action))
                )
                if isinstance(action, int):
                    payload = json.dumps({"detail": f"Injected {action}."}).encode()
                    self.send_response(action)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Retry-After", "0")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                cut = action[1] if isinstance(action, tuple) else None
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() not in ("content-length", "connection")
                }
                with (
                    httpx.Client(timeout=120) as upstream,
                    upstream.stream(
                        self.command, proxy.target + self.path, headers=headers, content=body
                    ) as answer,
                ):
                    self.send_response(answer.status_code)
                    for key, value in answer.headers.items():
                        if key.lower() not in (
                            "connection",
                            "transfer-encoding",
                            "content-encoding",
                        ):
                            self.send_header(key, value)
                    if "content-length" not in answer.headers:
                        self.send_header("Connection", "close")
                        self.close_connection = True
                    self.end_headers()
                    sent = 0
                    for chunk in answer.iter_raw():
                        if cut is not None and sent + len(chunk) >= cut:
                            self.wfile.write(chunk[: cut - sent])
                            self.wfile.flush()
                            self.close_connection = True
                            self.connection.shutdown(socket.SHUT_RDWR)
                            return
                        self.wfile.write(chunk)
                        sent += len(chunk)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def plan(self, fragment: str, actions: list) -> None:
        with self.lock:
            self.plans[fragment] = list(actions)

    def _next_action(self, path: str):
        with self.lock:
            for fragment, actions in self.plans.items():
                if fragment in path and actions:
                    return actions.pop(0)
        return "pass"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def flaky_proxy(server):
    proxy = FlakyProxy(server.url)
    yield proxy
    proxy.close()
