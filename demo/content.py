"""What the demo's tasks show, and the true answer of each.

The five photographs and four speech clips beside this file are all the media there is, so the
tasks reuse them: each photo comes as itself and as crops (some mirrored) whose true boxes follow
the crop, and every clip is transcribed many times, half of the tasks with a machine draft to
correct. Ranking prompts and their responses come from templates whose best-first order is known
by construction (a correct, explained answer beats a bare one, which beats a wrong or unsafe one).

Everything is drawn from the ``random.Random`` the caller passes, so a seed gives the same demo.
"""

import io
import json
import random
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from kinds.trajectory import demo as trajectory_demo

DEMO_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class DemoTask:
    """One task to create: its data (media comes as a file to upload) and its true answer."""

    external_id: str
    truth: dict
    data: dict = field(default_factory=dict)
    media: tuple[str, bytes] | None = None  # (file name, content)


# --- bounding boxes --------------------------------------------------------------------------

# The 24 coins of coins.jpg, six to a row: (x, y, w, h).
# fmt: off
COINS = [
    (22, 34, 45, 40), (81, 39, 39, 35), (132, 28, 47, 46), (192, 30, 48, 43),
    (257, 34, 36, 37), (305, 16, 59, 56), (25, 104, 42, 41), (84, 107, 38, 38),
    (134, 110, 40, 35), (186, 105, 41, 39), (245, 97, 51, 46), (317, 105, 39, 40),
    (25, 179, 38, 36), (80, 175, 44, 42), (135, 179, 39, 38), (189, 170, 47, 46),
    (252, 172, 45, 44), (315, 156, 65, 61), (18, 233, 53, 55), (93, 246, 43, 41),
    (147, 237, 52, 50), (220, 241, 49, 47), (276, 240, 50, 48), (336, 248, 45, 41),
]
# fmt: on
# Every person, animal, vehicle and object in each photo: (label, x, y, w, h) in image pixels.
PHOTO_BOXES: dict[str, list[tuple[str, int, int, int, int]]] = {
    "astronaut": [
        ("person", 20, 15, 345, 497),
        ("object", 275, 342, 237, 170),  # the helmet
        ("vehicle", 352, 0, 120, 285),  # the shuttle model
    ],
    "chelsea": [("animal", 0, 0, 400, 300)],
    "coffee": [
        ("object", 175, 15, 240, 292),  # the cup
        ("object", 322, 65, 104, 262),  # the spoon
        ("object", 75, 68, 405, 322),  # the saucer
    ],
    "coins": [("object", x, y, w, h) for x, y, w, h in COINS],
    "rocket": [
        ("vehicle", 302, 125, 42, 285),
        ("object", 0, 0, 92, 427),  # the launch towers
        ("object", 556, 0, 84, 427),
    ],
}
PHOTOS = list(PHOTO_BOXES)
# A box cut by a crop is kept (clipped) when this much of it is still in the picture, or when
# what is left fills this much of the picture (a cat's face seen close up is still a cat).
VISIBLE_SHARE = 0.5
FILLS_SHARE = 0.2
MIN_SIDE = 8


def _cropped_boxes(
    boxes: list[tuple[str, int, int, int, int]],
    *,
    crop: tuple[int, int, int, int],
    mirror: bool,
) -> list[dict]:
    left, top, width, height = crop
    out = []
    for label, x, y, w, h in boxes:
        x0, y0 = max(x, left), max(y, top)
        x1, y1 = min(x + w, left + width), min(y + h, top + height)
        if x1 - x0 < MIN_SIDE or y1 - y0 < MIN_SIDE:
            continue
        visible = (x1 - x0) * (y1 - y0)
        if visible < VISIBLE_SHARE * w * h and visible < FILLS_SHARE * width * height:
            continue
        bx, by, bw, bh = x0 - left, y0 - top, x1 - x0, y1 - y0
        if mirror:
            bx = width - bx - bw
        out.append({"label": label, "x": bx, "y": by, "w": bw, "h": bh})
    return out


def bbox_tasks(count: int, rng: random.Random) -> list[DemoTask]:
    """Each photo as itself first, then as crops of 70–95 % of it, half of them mirrored."""
    originals = {
        name: Image.open(DEMO_DIR / "images" / f"{name}.jpg").convert("RGB") for name in PHOTOS
    }
    tasks = []
    for n in range(count):
        name, variant = PHOTOS[n % len(PHOTOS)], n // len(PHOTOS)
        image = originals[name]
        if variant == 0:
            crop, mirror = (0, 0, *image.size), False
        else:
            scale = rng.uniform(0.7, 0.95)
            width, height = round(image.width * scale), round(image.height * scale)
            crop = (
                rng.randint(0, image.width - width),
                rng.randint(0, image.height - height),
                width,
                height,
            )
            mirror = rng.random() < 0.5
        left, top, width, height = crop
        picture = image.crop((left, top, left + width, top + height))
        if mirror:
            picture = picture.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        buffer = io.BytesIO()
        picture.save(buffer, format="JPEG", quality=85)
        boxes = _cropped_boxes(PHOTO_BOXES[name], crop=crop, mirror=mirror)
        tasks.append(
            DemoTask(
                external_id=f"photo-{name}-{variant:02}",
                truth={"boxes": boxes},
                media=(f"{name}-{variant:02}.jpg", buffer.getvalue()),
            )
        )
    return tasks


# --- transcription ---------------------------------------------------------------------------

SENTENCES = [  # what clip1.flac … clip4.flac say
    "The quick brown fox jumps over the lazy dog.",
    "Please label every car and every person in the picture.",
    "Our meeting starts at nine thirty tomorrow morning.",
    "Speech recognition works best with clear and steady voices.",
]
# Words a speech recogniser confuses, for the machine drafts.
SOUNDALIKES = {
    "quick": "quit",
    "fox": "folks",
    "jumps": "jump",
    "lazy": "hazy",
    "every": "each",
    "and": "in",
    "picture": "pictures",
    "our": "are",
    "nine": "night",
    "thirty": "thirteen",
    "starts": "start",
    "steady": "study",
    "clear": "clean",
    "voices": "voice",
    "best": "bust",
    "recognition": "recognitions",
}


def machine_draft(sentence: str, rng: random.Random) -> str:
    """The sentence as a speech recogniser might hear it: lower case, no punctuation, a word or
    two wrong."""
    words = sentence.lower().rstrip(".").split()
    wrong = rng.sample(range(len(words)), k=rng.choice([1, 1, 2]))
    for i in wrong:
        words[i] = SOUNDALIKES.get(words[i], words[i])
    return " ".join(words)


def transcription_tasks(count: int, rng: random.Random) -> list[DemoTask]:
    """The four clips in turn; every other round of them comes with a machine draft."""
    tasks = []
    for n in range(count):
        clip = n % len(SENTENCES) + 1
        sentence = SENTENCES[clip - 1]
        data = {"draft": machine_draft(sentence, rng)} if (n // len(SENTENCES)) % 2 else {}
        content = (DEMO_DIR / "audio" / f"clip{clip}.flac").read_bytes()
        tasks.append(
            DemoTask(
                external_id=f"clip{clip}-{n // len(SENTENCES) + 1:03}",
                truth={"text": sentence},
                data=data,
                media=(f"clip{clip}-{n // len(SENTENCES) + 1:03}.flac", content),
            )
        )
    return tasks


# --- preference ranking ----------------------------------------------------------------------

CRITERIA = ["helpfulness", "harmlessness", "honesty"]


@dataclass(frozen=True)
class Prompt:
    """A prompt and its responses, best first (the true order), before ids are shuffled."""

    prompt: str
    responses: list[str]
    harmful: bool = False  # one response is unsafe: harmlessness is judged, not tied

    def task(self, external_id: str, rng: random.Random) -> DemoTask:
        """The task with the responses in a shuffled order (ids by position, so "a" is not
        always the best)."""
        ids = [chr(ord("a") + i) for i in range(len(self.responses))]
        shown = list(range(len(self.responses)))  # shown[position] = rank of the response there
        rng.shuffle(shown)
        order = [ids[shown.index(rank)] for rank in range(len(self.responses))]
        best = order[0]
        truth = {
            "order": order,
            "criteria": {
                "helpfulness": best,
                "harmlessness": best if self.harmful else "tie",
                "honesty": best,
            },
        }
        data = {
            "prompt": self.prompt,
            "responses": [
                {"id": ids[position], "text": self.responses[rank]}
                for position, rank in enumerate(shown)
            ],
        }
        return DemoTask(external_id=external_id, truth=truth, data=data)


CAPITALS = [
    # country, capital, a bigger city that people often take for the capital
    ("Australia", "Canberra", "Sydney"),
    ("Canada", "Ottawa", "Toronto"),
    ("Brazil", "Brasília", "Rio de Janeiro"),
    ("Turkey", "Ankara", "Istanbul"),
    ("Switzerland", "Bern", "Zurich"),
    ("New Zealand", "Wellington", "Auckland"),
    ("Morocco", "Rabat", "Casablanca"),
    ("Nigeria", "Abuja", "Lagos"),
    ("Vietnam", "Hanoi", "Ho Chi Minh City"),
    ("Pakistan", "Islamabad", "Karachi"),
    ("India", "New Delhi", "Mumbai"),
    ("China", "Beijing", "Shanghai"),
    ("the United States", "Washington, D.C.", "New York City"),
    ("Scotland", "Edinburgh", "Glasgow"),
    ("Kazakhstan", "Astana", "Almaty"),
    ("Tanzania", "Dodoma", "Dar es Salaam"),
    ("Myanmar", "Naypyidaw", "Yangon"),
    ("Ecuador", "Quito", "Guayaquil"),
    ("Belize", "Belmopan", "Belize City"),
    ("Ivory Coast", "Yamoussoukro", "Abidjan"),
    ("Cameroon", "Yaoundé", "Douala"),
    ("Malta", "Valletta", "Birkirkara"),
    ("Liechtenstein", "Vaduz", "Schaan"),
    ("Sri Lanka", "Sri Jayawardenepura Kotte", "Colombo"),
    ("the Philippines", "Manila", "Quezon City"),
    ("the United Arab Emirates", "Abu Dhabi", "Dubai"),
    ("Burundi", "Gitega", "Bujumbura"),
]


def capital_prompts() -> list[Prompt]:
    return [
        Prompt(
            f"What is the capital of {country}?",
            [
                f"**{capital}**. {city} is the bigger city, but the capital of {country} is "
                f"{capital}.",
                f"The capital of {country} is {capital}.",
                f"The capital of {country} is {city}.",
            ],
        )
        for country, capital, city in CAPITALS
    ]


def arithmetic_prompts(count: int, rng: random.Random) -> list[Prompt]:
    """``count`` different multiplications: a worked answer, a bare one and a wrong one."""
    pairs = rng.sample([(a, b) for a in range(12, 99) for b in range(3, 10)], k=count)
    prompts = []
    for a, b in pairs:
        product = a * b
        wrong = product + rng.choice([-10, 10, -b, b])
        tens, units = a // 10 * 10, a % 10
        prompts.append(
            Prompt(
                f"What is {a} × {b}?",
                [
                    f"{a} × {b} = **{product}**: {tens} × {b} = {tens * b}, plus {units} × {b} = "
                    f"{units * b}.",
                    f"{product}",
                    f"{a} × {b} = {wrong}.",
                ],
            )
        )
    return prompts


def decimal_prompts() -> list[Prompt]:
    """Which of two decimals is larger, where the one with more digits looks bigger but is not."""
    prompts = []
    for whole in (3, 7, 9, 12):
        for short, long in ((9, 11), (8, 75), (5, 49), (6, 125), (4, 35)):
            big, small = f"{whole}.{short}", f"{whole}.{long}"
            padded = f"{whole}.{str(short).ljust(len(str(long)), '0')}"
            prompts.append(
                Prompt(
                    f"Which is larger: {small} or {big}?",
                    [
                        f"**{big}**. Compare digit by digit: {big} = {padded}, which is more "
                        f"than {small}.",
                        f"{big} is larger.",
                        f"{small} is larger, because {long} is more than {short}.",
                    ],
                )
            )
    return prompts


WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def weekday_prompts() -> list[Prompt]:
    prompts = []
    for i, day in enumerate(WEEKDAYS):
        for days in (2, 3, 4, 5, 10, 15):
            later = WEEKDAYS[(i + days) % 7]
            wrong = WEEKDAYS[(i + days + 1) % 7]
            weeks, rest = divmod(days, 7)
            if weeks:
                how = (
                    f"{days} days are {weeks} week{'s' * (weeks > 1)} and {rest} "
                    f"day{'s' * (rest > 1)}, and {rest} day{'s' * (rest > 1)} after {day} "
                    f"comes {later}."
                )
            else:
                how = f"count {days} days on from {day}."
            prompts.append(
                Prompt(
                    f"What day of the week is it {days} days after a {day}?",
                    [
                        f"**{later}**: {how}",
                        f"{later}.",
                        f"It is a {wrong}.",
                    ],
                )
            )
    return prompts


UNITS = [
    # small unit, big unit (singular), how many small in one big
    ("minutes", "hour", 60),
    ("seconds", "minute", 60),
    ("centimetres", "metre", 100),
    ("grams", "kilogram", 1000),
    ("millilitres", "litre", 1000),
    ("days", "week", 7),
    ("months", "year", 12),
    ("metres", "kilometre", 1000),
    ("hours", "day", 24),
]


def unit_prompts() -> list[Prompt]:
    prompts = []
    for small, big, factor in UNITS:
        for n in (2, 3, 5, 7, 12):
            wrong = n * (factor // 10 if factor >= 100 else factor + 10)
            prompts.append(
                Prompt(
                    f"How many {small} are there in {n} {big}s?",
                    [
                        f"{n * factor:,} {small}: one {big} has {factor:,} {small}, "
                        f"and {n} × {factor:,} = {n * factor:,}.",
                        f"{n * factor:,}.",
                        f"There are {wrong:,} {small} in {n} {big}s.",
                    ],
                )
            )
    return prompts


PYTHON = [
    (
        "How do I check whether a key is in a dictionary in Python?",
        "Use `in`: `if key in settings:`. It reads the keys only and is O(1). To read a value "
        "with a fallback, use `settings.get(key, default)`.",
        "`if key in settings:`",
        "Call `settings.has_key(key)`.",  # Python 2 only
    ),
    (
        "How do I remove duplicates from a Python list but keep the order?",
        "`list(dict.fromkeys(items))`: dictionaries keep insertion order (Python 3.7+), so the "
        "first occurrence of each item stays where it was. The items must be hashable.",
        "`list(set(items))` removes duplicates.",
        "Use `items.unique()`.",
    ),
    (
        "How do I read a text file line by line in Python?",
        "```python\nwith open(path, encoding='utf-8') as f:\n    for line in f:\n        "
        "print(line.rstrip('\\n'))\n```\nThe `with` block closes the file, and iterating "
        "reads one line at a time, so big files are fine.",
        "`open(path).readlines()` gives you a list of lines.",
        "Python cannot read files without installing a library such as `pandas`.",
    ),
    (
        "How do I join a list of strings with commas in Python?",
        "`', '.join(words)`: `join` is a method of the separator. Convert non-strings first, "
        "e.g. `', '.join(map(str, numbers))`.",
        "`', '.join(words)`",
        "`words.join(', ')`",
    ),
    (
        "How do I sort a list of dictionaries by one key in Python?",
        "`sorted(people, key=lambda p: p['age'])` returns a new list; `people.sort(key=…)` "
        "sorts in place. Add `reverse=True` for descending order.",
        "`sorted(people, key=lambda p: p['age'])`",
        "`sorted(people, 'age')`",
    ),
    (
        "How do I count how often each word appears in a Python list?",
        "`collections.Counter(words)` gives a dict-like count; `Counter(words).most_common(3)` "
        "lists the three most frequent words.",
        "Loop over the list and add 1 to a dictionary entry per word.",
        "`words.count()` returns every count at once.",
    ),
    (
        "How do I merge two dictionaries in Python?",
        "`merged = first | second` (Python 3.9+), or `{**first, **second}`; keys of `second` "
        "win. `first.update(second)` changes `first` in place.",
        "`{**first, **second}`",
        "`first + second`",
    ),
    (
        "How do I loop over a list with the index in Python?",
        "`for i, item in enumerate(items):`; `enumerate(items, start=1)` counts from 1.",
        "`for i in range(len(items)): item = items[i]`",
        "Python lists have no indexes in a loop.",
    ),
    (
        "How do I check whether a Python list is empty?",
        "`if not items:`: an empty list is false. `if len(items) == 0:` works too but is longer.",
        "`if len(items) == 0:`",
        "`if items == None:`",
    ),
    (
        "How do I turn a string into an integer safely in Python?",
        "```python\ntry:\n    n = int(text)\nexcept ValueError:\n    n = None  # not a whole "
        "number\n```\n`int` also accepts surrounding spaces and a sign.",
        "`int(text)`",
        "`text.toInteger()`",
    ),
    (
        "How do I get today's date in Python?",
        "`datetime.date.today()` (after `import datetime`); for a time zone aware timestamp "
        "use `datetime.datetime.now(datetime.UTC)`.",
        "`datetime.date.today()`",
        "`time.today()`",
    ),
    (
        "How do I reverse a string in Python?",
        "Slice it backwards: `text[::-1]`. Strings are immutable, so this returns a new one.",
        "`''.join(reversed(text))`",
        "`text.reverse()`",
    ),
]


def python_prompts() -> list[Prompt]:
    return [Prompt(prompt, [best, bare, wrong]) for prompt, best, bare, wrong in PYTHON]


SAFETY = [
    (
        "Can I use water to put out a grease fire in a pan?",
        "No. Water sinks under the burning oil, boils at once and throws the fire out of the pan. "
        "Turn off the heat, slide a lid or baking sheet over the pan, and leave it covered; use "
        "a class K (F in Europe) extinguisher if you have one.",
        "No, don't use water.",
        "Yes: pour a glass of water on it quickly.",
    ),
    (
        "Is it safe to mix bleach and vinegar for a stronger cleaner?",
        "No. The acid in vinegar makes bleach release chlorine gas, which harms the lungs even in "
        "small amounts. Use one product, rinse, and ventilate the room.",
        "It is not recommended.",
        "Yes, the mix cleans twice as well.",
    ),
    (
        "Can I look at a solar eclipse through sunglasses?",
        "No. Sunglasses let through far too much light; looking at the partial eclipse can burn "
        "the retina without pain. Use eclipse glasses made to ISO 12312-2, or a pinhole "
        "projector.",
        "No, sunglasses are not enough.",
        "Yes, dark sunglasses are enough.",
    ),
    (
        "Is it fine to eat raw chicken if it is very fresh?",
        "No. Fresh chicken can still carry Salmonella and Campylobacter. Cook it until the "
        "thickest part reaches 74 °C (165 °F), and wash what touched it raw.",
        "No, cook chicken through.",
        "Yes, freshness makes it safe.",
    ),
    (
        "Can I put a metal fork in the microwave to heat food faster?",
        "No. Metal with points and edges, like a fork, can spark and damage the oven or start a "
        "fire; it does not heat food faster. Use a microwave-safe plate and stir halfway.",
        "No, keep metal out of the microwave.",
        "Yes, the metal conducts heat into the food.",
    ),
    (
        "Should I run a petrol generator in my garage during a power cut?",
        "No. Generators make carbon monoxide, which has no smell and kills in minutes in a "
        "closed space, even with the door open. Run it outdoors, at least 6 m (20 ft) from "
        "windows and doors, and use a CO alarm.",
        "No, run it outside.",
        "Yes, with the garage door half open it is fine.",
    ),
]


def safety_prompts() -> list[Prompt]:
    return [Prompt(q, [best, bare, bad], harmful=True) for q, best, bare, bad in SAFETY]


TRANSLATIONS = {
    "thank you": {
        "French": "Merci",
        "Spanish": "Gracias",
        "German": "Danke",
        "Italian": "Grazie",
        "Portuguese": "Obrigado",
    },
    "good morning": {
        "French": "Bonjour",
        "Spanish": "Buenos días",
        "German": "Guten Morgen",
        "Italian": "Buongiorno",
        "Portuguese": "Bom dia",
    },
    "good night": {
        "French": "Bonne nuit",
        "Spanish": "Buenas noches",
        "German": "Gute Nacht",
        "Italian": "Buonanotte",
        "Portuguese": "Boa noite",
    },
    "where is the station?": {
        "French": "Où est la gare ?",
        "Spanish": "¿Dónde está la estación?",
        "German": "Wo ist der Bahnhof?",
        "Italian": "Dov'è la stazione?",
        "Portuguese": "Onde fica a estação?",
    },
    "I don't understand": {
        "French": "Je ne comprends pas",
        "Spanish": "No entiendo",
        "German": "Ich verstehe nicht",
        "Italian": "Non capisco",
        "Portuguese": "Não entendo",
    },
}


def translation_prompts() -> list[Prompt]:
    prompts = []
    languages = list(next(iter(TRANSLATIONS.values())))
    for phrase, by_language in TRANSLATIONS.items():
        for i, language in enumerate(languages):
            other = languages[(i + 1) % len(languages)]
            prompts.append(
                Prompt(
                    f"Translate “{phrase}” into {language}.",
                    [f"“{by_language[language]}”", f"“{by_language[other]}” ({other})"],
                )
            )
    return prompts


# The hand-written prompts of ranking.json, best first.
HANDWRITTEN_ORDERS = {
    "demo-rank-1": ["a", "c", "b"],
    "demo-rank-2": ["a", "b"],
    "demo-rank-3": ["d", "a", "c", "b"],
    "demo-rank-4": ["a", "b"],
}
HANDWRITTEN_HARMFUL = {"demo-rank-3"}


def ranking_tasks(count: int, rng: random.Random) -> list[DemoTask]:
    """The hand-written prompts, then the templates in a shuffled order, then arithmetic."""
    tasks = []
    for item in json.loads((DEMO_DIR / "ranking.json").read_text()):
        order = HANDWRITTEN_ORDERS[item["external_id"]]
        harmful = item["external_id"] in HANDWRITTEN_HARMFUL
        criteria = {
            "helpfulness": order[0],
            "harmlessness": order[0] if harmful else "tie",
            "honesty": order[0],
        }
        truth = {"order": order, "criteria": criteria}
        tasks.append(DemoTask(external_id=item["external_id"], truth=truth, data=item["data"]))
    templated = [
        *capital_prompts(),
        *unit_prompts(),
        *python_prompts(),
        *safety_prompts(),
        *translation_prompts(),
        *decimal_prompts(),
        *weekday_prompts(),
    ]
    templated += arithmetic_prompts(max(0, count - len(tasks) - len(templated)), rng)
    rng.shuffle(templated)
    for prompt in templated[: max(0, count - len(tasks))]:
        tasks.append(prompt.task(f"prompt-{len(tasks) + 1:03}", rng))
    return tasks[:count]


# --- conversations ---------------------------------------------------------------------------

# A reply's accuracy on the rubric's 1–5 scale by its rank among the prompt's responses (best
# first), and its helpfulness on 1–3: the best reply is right and useful, the worst is wrong.
REPLY_ACCURACY = {0: 5, 1: 3, 2: 2, 3: 1}
REPLY_HELPFULNESS = {0: 3, 1: 2, 2: 1, 3: 1}


def conversation_tasks(count: int, rng: random.Random) -> list[DemoTask]:
    """Two-turn chats made from the ranking templates: a question, the assistant's reply (one of
    the prompt's responses, so how good it is is known), a follow-up and a second reply. The true
    answer scores both replies and rewrites a wrong one with the best response."""
    prompts = [
        *capital_prompts(),
        *unit_prompts(),
        *python_prompts(),
        *decimal_prompts(),
        *weekday_prompts(),
    ]
    prompts += arithmetic_prompts(max(0, count - len(prompts)), rng)
    rng.shuffle(prompts)
    tasks = []
    for n in range(count):
        first, second = prompts[n % len(prompts)], prompts[(n * 7 + 3) % len(prompts)]
        rank_1 = rng.randrange(len(first.responses))
        rank_2 = rng.randrange(len(second.responses))
        messages = [
            {"role": "system", "content": "You are a concise, careful assistant."},
            {"role": "user", "content": first.prompt},
            {"role": "assistant", "content": first.responses[rank_1], "model": "demo-assistant-1"},
            {"role": "user", "content": f"Thanks. One more: {second.prompt}"},
            {"role": "assistant", "content": second.responses[rank_2], "model": "demo-assistant-1"},
        ]
        turns = []
        for index, prompt, rank in ((2, first, rank_1), (4, second, rank_2)):
            turn = {
                "index": index,
                "scores": {
                    "accuracy": REPLY_ACCURACY.get(rank, 1),
                    "helpfulness": REPLY_HELPFULNESS.get(rank, 1),
                },
                "spans": [],
            }
            if rank > 0:  # a wrong or weaker reply: the true answer rewrites it with the best
                turn["rewrite"] = prompt.responses[0]
            turns.append(turn)
        worst = max(rank_1, rank_2)
        truth = {"turns": turns, "scores": {"overall": 5 - min(worst, 3)}}
        tasks.append(
            DemoTask(external_id=f"chat-{n + 1:03}", truth=truth, data={"messages": messages})
        )
    return tasks


# --- agent runs ------------------------------------------------------------------------------


def trajectory_tasks(count: int, rng: random.Random) -> list[DemoTask]:
    """The hand-written agent runs of ``kinds/trajectory/demo.py``, each several times."""
    return [
        DemoTask(external_id=run.external_id, truth=run.truth, data=run.data)
        for run in trajectory_demo.tasks(count, rng)
    ]
