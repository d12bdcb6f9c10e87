"""The demo's simulated contributors: how far each one's answers stray from the true answer.

A profile is a handful of error rates, applied the same way to gold and to real tasks (nobody can
tell them apart). The numbers are chosen so that the real quality rules sort the people out: the
careful one is almost always right, the average one now and then wrong, the sloppy one often
wrong but above the demo's accuracy floor, and the careless one so far below it that the
accuracy-floor rule pauses them after a handful of gold tasks.
"""

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    """How one person works: their error rates, speed and share of the work."""

    name: str
    box_jitter: float  # box edges move by this share of the box's size (standard deviation)
    box_miss: float  # chance to leave a box out
    box_mislabel: float  # chance to give a box the wrong label
    box_extra: float  # chance to draw a box where there is nothing
    rank_swap: float  # chance to swap each pair of neighbours in a ranking
    rank_criteria: float  # chance to answer a criterion at random
    rank_by_length: float  # chance to skim: shortest response first, criteria to match
    word_error: float  # chance to get each word of a transcript wrong or leave it out
    keep_draft: float  # chance to submit the machine draft of a transcript unchanged
    speed: float  # seconds of work per unit (a box, a response, a second of audio)
    daily: float  # this person's share of the day's work
    first_day: int = 0  # the day they join the project
    min_daily: int = 0  # tasks a day they take on at least, however small the project
    step_slip: float = 0.0  # chance to misrate each step of an agent run
    run_skim: float = 0.0  # chance to rate a whole agent run without reading it


CAREFUL = Profile(
    "careful", 0.02, 0.01, 0.0, 0.0, 0.03, 0.03, 0.0, 0.005, 0.0, 9.0, 0.34, step_slip=0.02
)
AVERAGE = Profile(
    "average", 0.05, 0.05, 0.02, 0.03, 0.1, 0.08, 0.02, 0.03, 0.05, 6.0, 0.32, step_slip=0.05
)
SLOPPY = Profile(
    "sloppy", 0.12, 0.18, 0.07, 0.12, 0.3, 0.25, 0.1, 0.14, 0.4, 3.5, 0.26, step_slip=0.15
)
CARELESS = Profile(
    "careless",
    0.3,
    0.5,
    0.4,
    0.5,
    0.4,
    0.4,
    0.9,
    0.7,
    0.0,
    2.0,
    0.4,
    3,
    8,
    step_slip=0.4,
    run_skim=0.9,
)

LABELS = ["person", "animal", "vehicle", "object"]
SKIM_FLAG = "factual error"  # one of the demo chat project's error types


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def bbox_answer(truth: dict, data: dict, profile: Profile, rng: random.Random) -> dict:
    width, height = data["width"], data["height"]
    boxes = []
    for box in truth["boxes"]:
        if rng.random() < profile.box_miss:
            continue
        jitter = profile.box_jitter
        x0 = box["x"] + rng.gauss(0, jitter) * box["w"]
        y0 = box["y"] + rng.gauss(0, jitter) * box["h"]
        x1 = box["x"] + box["w"] + rng.gauss(0, jitter) * box["w"]
        y1 = box["y"] + box["h"] + rng.gauss(0, jitter) * box["h"]
        x0, x1 = sorted((_clamp(x0, 0, width), _clamp(x1, 0, width)))
        y0, y1 = sorted((_clamp(y0, 0, height), _clamp(y1, 0, height)))
        if x1 - x0 < 4 or y1 - y0 < 4:
            continue
        label = box["label"]
        if rng.random() < profile.box_mislabel:
            label = rng.choice([name for name in LABELS if name != label])
        boxes.append(
            {
                "label": label,
                "x": round(x0),
                "y": round(y0),
                "w": round(x1 - x0),
                "h": round(y1 - y0),
            }
        )
    if rng.random() < profile.box_extra:
        w, h = rng.randint(20, max(21, width // 3)), rng.randint(20, max(21, height // 3))
        x, y = rng.randint(0, width - w), rng.randint(0, height - h)
        boxes.append({"label": rng.choice(LABELS), "x": x, "y": y, "w": w, "h": h})
    for box in boxes:  # rounding may push a box one pixel past the edge
        box["w"] = min(box["w"], width - box["x"])
        box["h"] = min(box["h"], height - box["y"])
    return {"boxes": boxes}


RATIONALES = [
    "{best} answers the question correctly and says why; {worst} is wrong.",
    "{best} is accurate and complete. {worst} would mislead the user.",
    "{best} is the most helpful; {worst} gets the facts wrong.",
]


def ranking_answer(truth: dict, data: dict, profile: Profile, rng: random.Random) -> dict:
    ids = [response["id"] for response in data["responses"]]
    if rng.random() < profile.rank_by_length:
        # Skimming: the shortest response looks best, on every criterion.
        texts = {response["id"]: response["text"] for response in data["responses"]}
        order = sorted(ids, key=lambda rid: len(texts[rid]))
        criteria = dict.fromkeys(truth["criteria"], order[0])
        return {"order": order, "criteria": criteria, "rationale": ""}
    order = list(truth["order"])
    for i in range(len(order) - 1):
        if rng.random() < profile.rank_swap:
            order[i], order[i + 1] = order[i + 1], order[i]
    criteria = {
        criterion: rng.choice([*ids, "tie"]) if rng.random() < profile.rank_criteria else verdict
        for criterion, verdict in truth["criteria"].items()
    }
    template = rng.choice(RATIONALES)
    rationale = template.format(best=order[0].upper(), worst=order[-1].upper())
    return {"order": order, "criteria": criteria, "rationale": rationale}


# Mistakes people make when they type what they hear.
MISHEARD = {
    "quick": "quick little",
    "jumps": "jumped",
    "the": "a",
    "every": "each",
    "and": "an",
    "in": "on",
    "picture": "pictures",
    "our": "the",
    "starts": "will start",
    "nine": "9",
    "thirty": "30",
    "tomorrow": "today",
    "works": "work",
    "best": "better",
    "clear": "clean",
    "steady": "ready",
    "voices": "voice",
}


def transcription_answer(truth: dict, data: dict, profile: Profile, rng: random.Random) -> dict:
    draft = data.get("draft")
    if draft and rng.random() < profile.keep_draft:
        return {"text": draft}
    words = truth["text"].split()
    out = []
    for word in words:
        if rng.random() >= profile.word_error:
            out.append(word)
            continue
        bare = word.lower().strip(".,")
        if rng.random() < 0.3:
            continue  # a word left out
        out.append(MISHEARD.get(bare, bare[:-1] or bare))
    text = " ".join(out) or words[0]  # something is always typed
    if profile.name != "careful" and rng.random() < 0.5:
        text = text.lower().rstrip(".")  # the normalisation rules ignore this
    return {"text": text}


def conversation_answer(truth: dict, data: dict, profile: Profile, rng: random.Random) -> dict:
    """Scores off by one or two now and then (more often for careless people) and a rewrite
    where the true answer has one; a skimmer picks scores without reading and rewrites nothing."""
    scales = {"accuracy": 5, "helpfulness": 3, "overall": 5}
    if rng.random() < profile.rank_by_length:
        # Skimming: a score picked without reading, nothing rewritten, and a stretch of one reply
        # flagged as wrong at a glance (the demo's replies have no errors to find).
        turns = [
            {
                "index": turn["index"],
                "scores": {name: rng.randint(1, scales[name]) for name in turn["scores"]},
                "spans": [],
            }
            for turn in truth["turns"]
        ]
        if turns:
            flagged = rng.choice(turns)
            length = len(data["messages"][flagged["index"]]["content"])
            start = rng.randrange(0, max(1, length // 2))
            end = min(length, start + rng.randint(10, 60))
            if end > start:
                flagged["spans"] = [{"start": start, "end": end, "type": SKIM_FLAG}]
        return {
            "turns": turns,
            "scores": {name: rng.randint(1, scales[name]) for name in truth.get("scores", {})},
        }

    def nudge(name: str, value: int) -> int:
        if rng.random() < profile.rank_criteria:
            value += rng.choice([-2, -1, 1, 2])
        return int(_clamp(value, 1, scales[name]))

    turns = []
    for turn in truth["turns"]:
        mine = {
            "index": turn["index"],
            "scores": {name: nudge(name, value) for name, value in turn["scores"].items()},
            "spans": [],
        }
        if "rewrite" in turn and rng.random() >= profile.rank_by_length:
            mine["rewrite"] = turn["rewrite"]
        turns.append(mine)
    scores = {name: nudge(name, value) for name, value in truth.get("scores", {}).items()}
    return {"turns": turns, "scores": scores}


STEP_RATINGS = ["correct", "partly correct", "wrong"]  # the demo agent-run project's ratings


def trajectory_answer(truth: dict, data: dict, profile: Profile, rng: random.Random) -> dict:
    """Each agent step rated as the truth has it, or one notch off now and then (``step_slip``); the
    first error is then the earliest step rated wrong, the verdict follows from it, the first
    error's correction is written when it is found (a hurried person now and then leaves it
    out), and rubric scores are off by one or two now and then. A skimmer (the careless one,
    mostly) rates the steps and the run without reading it: at random."""
    skim = rng.random() < profile.run_skim
    steps = {}
    for step_id, entry in truth["steps"].items():
        rating = entry["rating"]
        if skim:
            rating = rng.choice(STEP_RATINGS)
        elif rng.random() < profile.step_slip:  # one notch off: a hedge, rarely a new error
            at = STEP_RATINGS.index(rating)
            rating = STEP_RATINGS[rng.choice([n for n in (at - 1, at + 1) if 0 <= n < 3])]
        steps[step_id] = {"rating": rating}
    first = next((s for s, e in steps.items() if e["rating"] == STEP_RATINGS[-1]), None)
    if skim:
        verdict = rng.choice(["success", "partial", "failure"])
    elif first is None:
        partly = any(e["rating"] != STEP_RATINGS[0] for e in steps.values())
        verdict = "partial" if partly else "success"
    else:
        verdict = truth["verdict"] if truth["first_error"] else "failure"
    found = first is not None and first == truth["first_error"] and not skim
    if found and truth["steps"][first].get("error"):
        steps[first]["error"] = truth["steps"][first]["error"]
    corrections = []
    if found and rng.random() >= profile.rank_criteria:
        corrections = [c for c in truth["corrections"] if c["step"] == first]
    scales = {"efficiency": 5, "safety": 3}

    def nudge(name: str, value: int) -> int:
        if skim:
            return rng.randint(1, scales.get(name, 3))
        if rng.random() < profile.rank_criteria:
            value += rng.choice([-2, -1, 1, 2])
        return int(_clamp(value, 1, scales.get(name, 3)))

    return {
        "steps": steps,
        "first_error": first,
        "corrections": corrections,
        "verdict": verdict,
        "scores": {name: nudge(name, value) for name, value in truth["scores"].items()},
        "failure_modes": [] if skim else list(truth["failure_modes"]),
        "critique": "",
    }


ANSWERERS = {
    "bbox": bbox_answer,
    "ranking": ranking_answer,
    "transcription": transcription_answer,
    "conversation": conversation_answer,
    "trajectory": trajectory_answer,
}


def answer(kind: str, truth: dict, data: dict, profile: Profile, rng: random.Random) -> dict:
    """What this person submits for a task whose true answer is ``truth``."""
    return ANSWERERS[kind](truth, data, profile, rng)


# The units of work in one task, per kind: boxes, responses, turns, seconds of audio, agent steps.
WORK_UNITS = {
    "bbox": lambda truth, data: 2 + len(truth["boxes"]),
    "ranking": lambda truth, data: 3 * len(data["responses"]),
    "conversation": lambda truth, data: 4 * len(data["messages"]),
    "transcription": lambda truth, data: 3 + float(data.get("duration", 4.0)),
    "trajectory": lambda truth, data: 2 + 3 * len(truth["steps"]),
}


def active_seconds(kind: str, truth: dict, data: dict, profile: Profile, rng: random.Random) -> int:
    """How long the answer took: per box, per response or per second of audio, with some spread."""
    units = WORK_UNITS[kind](truth, data)
    return max(3, round(profile.speed * units * rng.uniform(0.7, 1.4)))
