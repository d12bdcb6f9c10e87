"""A small OpenAI-compatible chat server on loopback, for live-mode tests: a real HTTP server that
streams its reply as server-sent events, a chunk at a time, as model servers do.

The reply to a user turn is ``"You said: <turn>. "`` and a numbered sentence, in word-sized
chunks ``delay`` seconds apart. A turn containing ``FAIL`` gets ``500`` with an OpenAI error body,
``SLOW`` a stream that stops sending, ``MOVED`` a redirect. Every request is kept in ``requests``.
"""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class ChatServer:
    def __init__(self, *, delay: float = 0.05, api_key: str | None = None) -> None:
        self.delay = delay
        self.api_key = api_key
        self.requests: list[dict] = []
        self.replies = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                server.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "body": body}
                )
                if self.path != "/v1/chat/completions":
                    return self.fail(404, "No such route.")
                if (
                    server.api_key
                    and self.headers.get("Authorization") != f"Bearer {server.api_key}"
                ):
                    return self.fail(401, "Incorrect API key provided.")
                last = next(
                    (
                        m["content"]
                        for m in reversed(body.get("messages", []))
                        if m["role"] == "user"
                    ),
                    "",
                )
                if "FAIL" in last:
                    return self.fail(500, "The model is overloaded.")
                if "MOVED" in last:
                    self.send_response(302)
                    self.send_header("Location", "http://example.com/")
                    self.end_headers()
                    return None
                server.replies += 1
                words = f"You said: {last}. This is reply number {server.replies}.".split(" ")
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                for i, word in enumerate(words):
                    if "SLOW" in last and i == 2:
                        time.sleep(5)
                    chunk = {
                        "id": "chatcmpl-1",
                        "object": "chat.completion.chunk",
                        "model": body.get("model"),
                        "choices": [
                            {
                                "index": 0,
                                "delta": {"content": word + (" " if i < len(words) - 1 else "")},
                            }
                        ],
                    }
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                    time.sleep(server.delay)
                self.wfile.write(b"data: [DONE]\n\n")
                return None

            def fail(self, status: int, message: str) -> None:
                payload = json.dumps({"error": {"message": message, "type": "server_error"}})
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload.encode())

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> "ChatServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
