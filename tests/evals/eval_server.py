"""A small OpenAI-compatible server on loopback for eval tests: two models and a judge.

Prompts ask about topic ``i`` and rubrics say "Mentions <word>". Model ``good`` names the words
a good answer names (and no pitfall); model ``bad`` names few and falls into the pitfall. The
``judge`` reads its grader prompt: on criteria tagged ``axis:accuracy`` it says *met* exactly
when the word is in the response (right); on ``axis:communication`` it says the opposite
(wrong). Every reply reports token usage.
"""

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def words(i: int) -> dict[str, str]:
    return {"fact": f"fact{i}", "dose": f"dose{i}", "warm": f"warm{i}", "pitfall": f"panic{i}"}


def good_answer(i: int) -> str:
    w = words(i)
    named = [w["fact"], w["warm"]] + ([w["dose"]] if i % 3 else [])
    return f"About topic {i}: " + ", ".join(named) + "."


def bad_answer(i: int) -> str:
    w = words(i)
    named = [w["pitfall"]] + ([w["fact"]] if i % 4 == 0 else [])
    return f"Topic {i}? " + " ".join(named)


RUBRIC_LINE = re.compile(r"^([\w-]+) \(([+-]\d+)\): Mentions (\w+) \[(axis:\w+)\]$", re.M)


def judge_reply(prompt: str) -> str:
    response = prompt.split("<<<", 1)[1].split(">>>", 1)[0]
    verdicts = {}
    for cid, _points, word, tag in RUBRIC_LINE.findall(prompt):
        present = word in response
        met = present if tag == "axis:accuracy" else not present
        verdicts[cid] = {"met": met, "evidence": word if present and met else ""}
    return "Here you are:\n" + json.dumps({"verdicts": verdicts})


class EvalServer:
    def __init__(self) -> None:
        self.calls: list[str] = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                model = body["model"]
                text = body["messages"][-1]["content"]
                with outer.lock:
                    outer.calls.append(model)
                if model == "judge":
                    reply = judge_reply(text)
                else:
                    i = int(re.search(r"topic (\d+)", text).group(1))
                    reply = good_answer(i) if model == "good" else bad_answer(i)
                payload = json.dumps(
                    {
                        "choices": [{"message": {"role": "assistant", "content": reply}}],
                        "usage": {"prompt_tokens": len(text) // 4, "completion_tokens": 20},
                    }
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> "EvalServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def eval_prompts(count: int) -> list[dict]:
    """HealthBench-shaped rows: two accuracy criteria, a communication one and a pitfall."""
    rows = []
    for i in range(count):
        w = words(i)
        rows.append(
            {
                "prompt_id": f"q{i}",
                "prompt": [{"role": "user", "content": f"Tell me about topic {i}."}],
                "rubrics": [
                    {"criterion": f"Mentions {w['fact']} [axis:accuracy]", "points": 5,
                     "tags": ["axis:accuracy"]},
                    {"criterion": f"Mentions {w['dose']} [axis:accuracy]", "points": 3,
                     "tags": ["axis:accuracy"]},
                    {"criterion": f"Mentions {w['warm']} [axis:communication]", "points": 2,
                     "tags": ["axis:communication"]},
                    {"criterion": f"Mentions {w['pitfall']} [axis:communication]", "points": -4,
                     "tags": ["axis:communication"]},
                ],
                "example_tags": ["theme:test"],
            }
        )  # fmt: skip
    return rows


def truth(data: dict) -> dict:
    """What an expert says of a task: a criterion is met when its word is in the response."""
    verdicts = {}
    for criterion in data["rubric"]:
        word = criterion["criterion"].split()[1]
        verdicts[criterion["id"]] = {"met": word in data["response"]}
    return {"verdicts": verdicts}
