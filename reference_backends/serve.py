"""The LabelHub backend protocol, server side, for any model.

``POST /predict`` takes ``{"kind", "schema", "tasks": [{"id", "data", "media"?}]}`` and answers
``{"predictions": [{"task", "result", "score", "model_version"}]}``; ``GET /health`` answers
``{"ok": true, "model_version"}``. A model is an object with a ``version`` and a
``predict(kind, schema, tasks) -> list[dict]`` (``{"task", "result", "score"}`` each; a task it
has no answer for is left out). A :class:`Refused` from it is a 400 with its message, which
LabelHub shows on the run. Calls are served one thread each; ``predict`` runs under one lock,
because the models here are not safe to call from two threads at once.
"""

import argparse
import base64
import binascii
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Protocol

log = logging.getLogger("reference_backends")
MAX_BODY = 200 * 1024 * 1024


class Refused(Exception):
    """The request cannot be answered (wrong kind, bad body): a 400 with this message."""


class Model(Protocol):
    version: str

    def predict(self, kind: str, schema: dict, tasks: list[dict]) -> list[dict]: ...


def media_bytes(task: dict) -> bytes | None:
    """The task's uploaded file, sent inline by LabelHub; None when it has none."""
    media = task.get("media")
    if not isinstance(media, dict) or not isinstance(media.get("base64"), str):
        return None
    try:
        return base64.b64decode(media["base64"], validate=True)
    except (binascii.Error, ValueError):
        raise Refused(f"Task {task.get('id')}: media.base64 is not base64.") from None


def handler_for(model: Model) -> type[BaseHTTPRequestHandler]:
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        server_version = "LabelHubReferenceBackend/1"

        def log_message(self, format: str, *args) -> None:
            log.info("%s %s", self.address_string(), format % args)

        def _send(self, code: int, body: dict) -> None:
            raw = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_GET(self) -> None:
            if self.path.rstrip("/") != "/health":
                self._send(404, {"error": "GET /health or POST /predict"})
                return
            self._send(200, {"ok": True, "model_version": model.version})

        def do_POST(self) -> None:
            if self.path.rstrip("/") != "/predict":
                self._send(404, {"error": "GET /health or POST /predict"})
                return
            try:
                length = int(self.headers.get("Content-Length") or 0)
                if not 0 < length <= MAX_BODY:
                    raise Refused(f"A body of 1 byte to {MAX_BODY // 2**20} MB is expected.")
                try:
                    body = json.loads(self.rfile.read(length))
                except ValueError:
                    raise Refused("The body is not JSON.") from None
                if not isinstance(body, dict) or not isinstance(body.get("tasks"), list):
                    raise Refused('The body is {"kind", "schema", "tasks": [...]}.')
                schema = body.get("schema") if isinstance(body.get("schema"), dict) else {}
                with lock:
                    answers = model.predict(str(body.get("kind")), schema, body["tasks"])
            except Refused as refused:
                self._send(400, {"error": str(refused)})
                return
            except Exception:
                log.exception("predict failed")
                self._send(500, {"error": "The model failed; see the backend's log."})
                return
            predictions = [{**answer, "model_version": model.version} for answer in answers]
            self._send(200, {"predictions": predictions})

    return Handler


def main(build, *, description: str, default_port: int) -> None:
    """Parse ``--host``/``--port``, load the model (``build()``), serve until interrupted."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (loopback)")
    parser.add_argument("--port", type=int, default=default_port)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    model = build()
    server = ThreadingHTTPServer((args.host, args.port), handler_for(model))
    # One line a test or a supervisor can wait for.
    print(f"serving {model.version} on http://{args.host}:{server.server_port}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
