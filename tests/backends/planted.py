"""A planted model backend: a loopback HTTP server that answers with results a test chooses."""

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class PlantedBackend:
    """``answer(task) -> (result, score) | None`` per task sent; ``fail_first`` 500s first."""

    def __init__(
        self, answer: Callable[[dict], tuple[dict, float] | None], *, version: str = "v1"
    ) -> None:
        self.answer, self.version = answer, version
        self.fail_first = 0
        self.calls: list[dict] = []
        self.headers: list[dict] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _send(self, code: int, body: dict) -> None:
                raw = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self) -> None:
                self._send(200, {"ok": True, "model_version": owner.version})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                owner.calls.append(body)
                owner.headers.append(dict(self.headers))
                if owner.fail_first > 0:
                    owner.fail_first -= 1
                    self._send(500, {"error": "planted failure"})
                    return
                predictions = []
                for task in body["tasks"]:
                    answered = owner.answer(task)
                    if answered is not None:
                        result, score = answered
                        predictions.append(
                            {
                                "task": task["id"],
                                "result": result,
                                "score": score,
                                "model_version": owner.version,
                            }
                        )
                self._send(200, {"predictions": predictions})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "PlantedBackend":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
