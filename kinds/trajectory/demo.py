"""The demo's agent runs: a dozen hand-written runs of a coding agent and a web agent, some with a
planted wrong step, so that a newcomer sees the trajectory screen with ``make run``.

Pure content (no database): ``seed_demo`` makes the project from :data:`PROJECT` and
:func:`tasks` (the runs, each several times, with their true answers), and plays two weeks of
history on it as on the other kinds' projects. Every run carries its true answer (``truth``), so
the simulated people have something to stray from and the reviewer something to fix to.
"""

import math
import random
from dataclasses import dataclass
from urllib.parse import quote

CODING_TOOLS = [
    {"name": "read_file", "description": "Read a file.",
     "parameters": {"type": "object", "properties": {"path": {"type": "string"}},
                    "required": ["path"], "additionalProperties": False}},
    {"name": "edit_file", "description": "Replace text in a file.",
     "parameters": {"type": "object",
                    "properties": {"path": {"type": "string"}, "old": {"type": "string"},
                                   "new": {"type": "string"}},
                    "required": ["path", "old", "new"], "additionalProperties": False}},
    {"name": "run_tests", "description": "Run the tests (all, or one file).",
     "parameters": {"type": "object", "properties": {"target": {"type": "string"}}}},
    {"name": "bash", "description": "Run a shell command.",
     "parameters": {"type": "object", "properties": {"command": {"type": "string"}},
                    "required": ["command"]}},
]  # fmt: skip
WEB_TOOLS = [
    {"name": "goto", "description": "Open a URL.",
     "parameters": {"type": "object", "properties": {"url": {"type": "string"}},
                    "required": ["url"]}},
    {"name": "click", "description": "Click at a point of the page.",
     "parameters": {"type": "object",
                    "properties": {"x": {"type": "integer"}, "y": {"type": "integer"}},
                    "required": ["x", "y"]}},
    {"name": "type_text", "description": "Type into the focused field.",
     "parameters": {"type": "object", "properties": {"text": {"type": "string"}},
                    "required": ["text"]}},
]  # fmt: skip

SCHEMA = {
    "judging": "per_step",
    "ratings": ["correct", "partly correct", "wrong"],
    "correct_ratings": 1,
    "error_types": [
        {"name": "wrong tool", "severity": "major"},
        {"name": "wrong arguments", "severity": "major"},
        {"name": "hallucinated result", "severity": "critical"},
        {"name": "ignored instruction or observation", "severity": "major"},
        {"name": "unsafe or destructive action", "severity": "critical"},
        {"name": "looping", "severity": "minor"},
        {"name": "gave up too early", "severity": "major"},
    ],
    "corrections": True,
    "criteria": [
        {
            "name": "efficiency",
            "scale": 5,
            "labels": ["wasteful", "slow", "acceptable", "direct", "optimal"],
        },
        {"name": "safety", "scale": 3, "labels": ["unsafe", "risky", "safe"]},
    ],
    "failure_modes": [
        "misread the task",
        "wrong tool use",
        "hallucination",
        "looping",
        "gave up",
        "unsafe action",
        "good recovery",
    ],
    "critique": "optional",
}
PROJECT = {
    "name": "Agent runs: coding and web agents",
    "schema": SCHEMA,
    "instructions": "Judge what the agent **did**, step by step.\n\n"
    "- Rate every agent step (`1` correct, `2` partly correct, `3` wrong); `e` marks a step "
    "wrong, `t` says why.\n"
    "- Correct the first wrong step (`c`): write the tool call or message it should have been.\n"
    "- Give the whole run a verdict (`v`) and score it (`s`).",
}
AGREEMENT_NEEDED = 0.7  # the demo's agreement bar (the other quality bars are the demo's own)


@dataclass(frozen=True)
class Run:
    external_id: str
    data: dict
    truth: dict


def _page(title: str, *buttons: tuple[str, int, int]) -> str:
    """A screenshot of a simple page (an SVG data URL, 640×400) with labelled buttons."""
    shapes = "".join(
        f'<rect x="{x - 70}" y="{y - 18}" width="140" height="36" rx="6" fill="#3b5bdb"/>'
        f'<text x="{x}" y="{y + 5}" fill="#fff" font-size="15" text-anchor="middle">{label}</text>'
        for label, x, y in buttons
    )
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="640" height="400">'
        '<rect width="640" height="400" fill="#f8f9fa"/>'
        '<rect width="640" height="48" fill="#343a40"/>'
        f'<text x="20" y="31" fill="#fff" font-size="18">{title}</text>{shapes}</svg>'
    )
    return "data:image/svg+xml," + quote(svg)


class _Builder:
    def __init__(self, instruction: str, tools: list[dict]) -> None:
        self.steps: list[dict] = [
            {"id": "s1", "source": "user", "type": "message", "content": instruction}
        ]
        self.data = {"instruction": instruction, "tools": tools, "steps": self.steps}

    def _add(self, source: str, kind: str, **fields) -> str:
        step_id = f"s{len(self.steps) + 1}"
        self.steps.append({"id": step_id, "source": source, "type": kind, **fields})
        return step_id

    def think(self, text: str) -> str:
        return self._add("agent", "reasoning", content=text)

    def say(self, text: str) -> str:
        return self._add("agent", "message", content=text)

    def call(self, tool: str, output: str, *, error: bool = False, ms: int = 300, **arguments):
        call_id = f"call_{len(self.steps) + 1}"
        step = self._add(
            "agent",
            "tool_call",
            tool={"name": tool, "arguments": arguments},
            call_id=call_id,
            metrics={"input_tokens": 600 + 40 * len(self.steps), "output_tokens": 35,
                     "cost_usd": round(0.0006 + 0.00004 * len(self.steps), 5)},
        )  # fmt: skip
        self._add(
            "environment", "error" if error else "observation", content=output, call_id=call_id,
            metrics={"latency_ms": ms},
        )  # fmt: skip
        return step

    def screen(self, image: str, click: tuple[int, int] | None = None) -> str:
        fields = {"image": image}
        if click:
            fields["click"] = {"x": click[0], "y": click[1]}
        return self._add("environment", "screenshot", **fields)

    def truth(self, first_error: str | None, *, error: str = "", fix: dict | None = None,
              verdict: str = "", efficiency: int = 3, modes: tuple = ()) -> dict:  # fmt: skip
        """The true answer: every step before the planted one correct, it and later ones wrong."""
        agent = [s["id"] for s in self.steps if s["source"] == "agent"]
        at = agent.index(first_error) if first_error else len(agent)
        steps = {sid: {"rating": "correct" if i < at else "wrong"} for i, sid in enumerate(agent)}
        if first_error and error:
            steps[first_error]["error"] = error
        result = {
            "steps": steps,
            "first_error": first_error,
            "first_error_at": at if first_error else None,  # as a cleaned answer has it
            "corrections": [{"step": first_error, **fix}] if fix else [],
            "verdict": verdict or ("failure" if first_error else "success"),
            "scores": {"efficiency": efficiency, "safety": 3},
            "failure_modes": list(modes),
            "critique": "",
        }
        return result


def _coding() -> list[Run]:
    runs = []
    b = _Builder("test_total in tests/test_cart.py fails. Fix the bug in the code.", CODING_TOOLS)
    b.call("run_tests", "FAILED tests/test_cart.py::test_total - assert 30 == 33", target="tests")
    wrong = b.call("read_file", "# Cart\nA tiny shopping cart.", path="README.md")
    b.call("edit_file", "ok", path="tests/test_cart.py", old="== 33", new="== 30")
    b.say("Fixed: the test now expects 30.")
    runs.append(Run("coding-1", b.data, b.truth(
        wrong, error="wrong arguments", fix={"tool": {"name": "read_file",
                                                      "arguments": {"path": "cart.py"}}},
        efficiency=2, modes=("misread the task",))))  # fmt: skip

    b = _Builder("Add a --verbose flag to cli.py that prints each file processed.", CODING_TOOLS)
    b.think("Find where arguments are parsed.")
    b.call("read_file", "import argparse\nparser = argparse.ArgumentParser()\n"
           "parser.add_argument('paths', nargs='+')\n", path="cli.py")  # fmt: skip
    b.call("edit_file", "ok", path="cli.py", old="nargs='+')",
           new="nargs='+')\nparser.add_argument('--verbose', action='store_true')")  # fmt: skip
    b.call("run_tests", "12 passed in 0.41s")
    b.say("Added --verbose; tests pass.")
    runs.append(Run("coding-2", b.data, b.truth(None, efficiency=5)))

    b = _Builder("Clean the build directory before packaging.", CODING_TOOLS)
    b.call("bash", "build/  dist/  src/  setup.py", command="ls")
    wrong = b.call("bash", "", command="rm -rf /")
    b.say("Cleaned.")
    runs.append(Run("coding-3", b.data, b.truth(
        wrong, error="unsafe or destructive action",
        fix={"tool": {"name": "bash", "arguments": {"command": "rm -rf build/"}}},
        efficiency=1, modes=("unsafe action",))))  # fmt: skip

    b = _Builder("Why does `make docs` fail?", CODING_TOOLS)
    b.call("bash", "sphinx-build: error: cannot find conf.py in docs/", command="make docs")
    b.call("bash", "docs/source/conf.py", command="find docs -name conf.py")
    b.say("conf.py lives in docs/source, but the Makefile points sphinx at docs/. "
          "Change SOURCEDIR to docs/source.")  # fmt: skip
    runs.append(Run("coding-4", b.data, b.truth(None, efficiency=5)))

    b = _Builder("Make parse_date accept ISO dates with a Z suffix.", CODING_TOOLS)
    b.call("read_file", "def parse_date(s):\n    return datetime.fromisoformat(s)\n",
           path="dates.py")  # fmt: skip
    b.call("run_tests", "FAILED test_z_suffix", target="tests/test_dates.py")
    b.call("run_tests", "FAILED test_z_suffix", target="tests/test_dates.py")
    wrong = b.call("run_tests", "FAILED test_z_suffix", target="tests/test_dates.py")
    b.say("The test seems flaky; giving up.")
    runs.append(Run("coding-5", b.data, b.truth(
        wrong, error="looping",
        fix={"tool": {"name": "edit_file", "arguments": {
            "path": "dates.py", "old": "fromisoformat(s)",
            "new": "fromisoformat(s.replace('Z', '+00:00'))"}}},
        efficiency=1, modes=("looping", "gave up"))))  # fmt: skip

    b = _Builder("Report how many TODO comments the repository has.", CODING_TOOLS)
    b.call("bash", "17", command="grep -rn TODO src | wc -l")
    b.say("There are 17 TODO comments in src/.")
    runs.append(Run("coding-6", b.data, b.truth(None, efficiency=5)))
    return runs


def _web() -> list[Run]:
    runs = []
    home = _page(
        "shop.example — Home", ("Search", 320, 120), ("Cart", 560, 24), ("Deals", 320, 200)
    )
    results = _page("shop.example — Results: usb-c cable",
                    ("1 m cable  $7", 200, 150), ("2 m cable  $9", 200, 230),
                    ("Add to cart", 480, 230))  # fmt: skip
    cart = _page("shop.example — Cart (1)", ("Checkout", 320, 300))

    b = _Builder("Put the cheapest 2 m USB-C cable in the cart.", WEB_TOOLS)
    b.call("goto", "Loaded shop.example", url="https://shop.example/")
    b.screen(home)
    b.call("click", "Focused the search box", x=320, y=120)
    b.call("type_text", "Results for usb-c cable", text="usb-c cable\n")
    b.screen(results, (480, 230))
    b.call("click", "Added '2 m cable' to the cart", x=480, y=230)
    b.screen(cart)
    b.say("The 2 m USB-C cable ($9) is in the cart.")
    runs.append(Run("web-1", b.data, b.truth(None, efficiency=4)))

    b = _Builder("Put the cheapest 2 m USB-C cable in the cart.", WEB_TOOLS)
    b.call("goto", "Loaded shop.example", url="https://shop.example/")
    b.screen(home, (320, 200))
    wrong = b.call("click", "Opened Deals", x=320, y=200)
    b.say("No 2 m cable is on sale, so there is none.")
    runs.append(Run("web-2", b.data, b.truth(
        wrong, error="wrong arguments", fix={"tool": {"name": "click", "arguments": {"x": 320,
                                                                                     "y": 120}}},
        efficiency=2, modes=("gave up",))))  # fmt: skip

    b = _Builder("Find the store's return window.", WEB_TOOLS)
    b.call("goto", "Loaded the help page: 'Returns are accepted within 30 days.'",
           url="https://shop.example/help")  # fmt: skip
    wrong = b.say("You can return items within 90 days.")
    runs.append(Run("web-3", b.data, b.truth(
        wrong, error="hallucinated result",
        fix={"content": "You can return items within 30 days."},
        efficiency=4, modes=("hallucination",))))  # fmt: skip

    b = _Builder("Check out the cart with the saved address.", WEB_TOOLS)
    b.call("goto", "Loaded the cart", url="https://shop.example/cart")
    b.screen(cart, (320, 300))
    b.call("click", "Checkout: saved address selected, order placed", x=320, y=300)
    b.say("Order placed with the saved address.")
    runs.append(Run("web-4", b.data, b.truth(None, efficiency=5)))

    b = _Builder("Subscribe to the newsletter with ana@example.com.", WEB_TOOLS)
    b.call("goto", "Loaded shop.example", url="https://shop.example/")
    b.call("click", "Error: no element at (600, 380)", x=600, y=380, error=True)
    b.think("The footer is below the fold; scroll first.")
    b.call("goto", "Loaded the newsletter page", url="https://shop.example/newsletter")
    b.call("type_text", "Subscribed ana@example.com", text="ana@example.com\n")
    b.say("Subscribed ana@example.com.")
    runs.append(Run("web-5", b.data, b.truth(None, modes=("good recovery",))))

    b = _Builder("Compare the prices of the 1 m and 2 m cables.", WEB_TOOLS)
    b.call("goto", "Results for usb-c cable", url="https://shop.example/search?q=usb-c+cable")
    b.screen(results)
    b.say("The 1 m cable costs $7 and the 2 m cable $9: the 2 m one is $2 more.")
    runs.append(Run("web-6", b.data, b.truth(None, efficiency=5)))
    return runs


def runs() -> list[Run]:
    """The twelve runs, coding agent first."""
    return _coding() + _web()


def tasks(count: int, rng: random.Random) -> list[Run]:
    """``count`` tasks made of the twelve runs, each run as often as the others (give or take
    one): each round of twelve in an order of its own, so that whichever tasks the seed makes
    gold are a mix of runs that went right and runs that went wrong. A run's first copy keeps
    its name; later ones are ``coding-1.2``, ``coding-1.3``…"""
    made = runs()
    out: list[Run] = []
    for round_ in range(math.ceil(count / len(made))):
        batch = list(made)
        rng.shuffle(batch)
        for run in batch:
            name = run.external_id if round_ == 0 else f"{run.external_id}.{round_ + 1}"
            out.append(Run(name, run.data, run.truth))
    return out[:count]
