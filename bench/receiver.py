"""The bench's webhook receiver, run as a process of its own: ``python -m bench.receiver``.

It answers every POST with 200 at once, as a customer's endpoint behind a web server does, and
prints its port on the first line. In a process apart from the bench's timed client, its work
for each delivery does not queue behind the client's interpreter lock and show up as queue
latency.
"""

import http.server
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as receivers behind a web server do

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def main() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    sys.stdout.close()
    server.serve_forever()


if __name__ == "__main__":
    main()
