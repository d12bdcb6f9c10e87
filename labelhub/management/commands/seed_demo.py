"""Load LabelHub's demo: one organization, four people, one project of each task kind.

Idempotent: running it again changes nothing that is already there (passwords included).
"""

import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from annotation.models import Annotation, Task
from annotation.queue import annotation_submit, assignment_claim_next
from annotation.services import task_create, task_create_with_media
from labelhub.models import Organization, OrganizationMember, Project, ProjectMember, Role
from labelhub.quality_bars import default_quality

DEMO_DIR = Path(__file__).resolve().parents[2] / "demo"
DEMO_PASSWORD = "labelhub-demo"  # noqa: S105 - printed to the person running the demo
PEOPLE = [
    # username, full name, role on every demo project, organization admin, staff
    ("maria", "Maria Manager", Role.MANAGER, True, True),
    ("rui", "Rui Reviewer", Role.REVIEWER, False, False),
    ("ana", "Ana Contributor", Role.CONTRIBUTOR, False, False),
    ("ben", "Ben Contributor", Role.CONTRIBUTOR, False, False),
]
IMAGES = ["astronaut", "chelsea", "coffee", "rocket", "coins"]
# The one gold task of the bbox project: the cat's head in chelsea.jpg (451 x 300).
CHELSEA_GOLD = {"boxes": [{"label": "animal", "x": 140, "y": 20, "w": 200, "h": 190}]}
SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "Please label every car and every person in the picture.",
    "Our meeting starts at nine thirty tomorrow morning.",
    "Speech recognition works best with clear and steady voices.",
]
# Machine drafts with the mistakes a speech recogniser makes, for the editor to start from.
DRAFTS = {
    1: "please label every car in every person in the picture",
    3: "speech recognition works best with clear and study voices",
}

# Answers each demo contributor gives per project: enough to fill the dashboards, while leaving
# tasks for a newcomer who logs in as Ana or Ben.
DEMO_ANSWERS_EACH = 2
# What a careful contributor draws on each demo photo (image pixels of the 640 px versions).
DEMO_BOXES = {
    "astronaut": [("person", 40, 40, 420, 472)],
    "coffee": [("object", 70, 30, 440, 330)],
    "rocket": [("vehicle", 360, 40, 90, 387)],
    "coins": [("object", 12, 12, 360, 280)],
    "chelsea": [("animal", 140, 20, 200, 190)],
}
# Best-first orders for the demo prompts.
DEMO_ORDERS = {
    "demo-rank-1": ["a", "c", "b"],
    "demo-rank-2": ["a", "b"],
    "demo-rank-3": ["d", "a", "c", "b"],
    "demo-rank-4": ["a", "b"],
}


def demo_answer(task: Task, *, careful: bool) -> dict:
    """A plausible answer to a demo task; careless ones err the way people do."""
    key = task.external_id
    if key.startswith("demo-image-"):
        boxes = [
            {"label": label, "x": x, "y": y, "w": w, "h": h}
            if careful
            else {"label": label, "x": x + 12, "y": y + 9, "w": w - 30, "h": h - 20}
            for label, x, y, w, h in DEMO_BOXES[key.removeprefix("demo-image-")]
        ]
        return {"boxes": boxes}
    if key.startswith("demo-rank-"):
        order = list(DEMO_ORDERS[key])
        if not careful and len(order) > 2:
            order[1], order[2] = order[2], order[1]
        criteria = dict.fromkeys(SCHEMAS["ranking"]["criteria"], order[0])
        return {"order": order, "criteria": criteria, "rationale": "The first answer is correct."}
    number = int(key.removeprefix("demo-clip-"))
    text = SENTENCES[number - 1]
    if not careful and number % 2 == 0:
        text = text.replace("every", "each", 1).replace("clear", "clean", 1)
    return {"text": text}


INSTRUCTIONS = {
    "bbox": "Draw a tight box around **every** person, animal and vehicle.\n\n"
    "- Include parts hidden behind other objects only if you can see where they end.\n"
    "- Skip objects smaller than 10 pixels.",
    "ranking": "Order the responses from best to worst.\n\n"
    "Judge **helpfulness** (does it answer?), **harmlessness** (is it safe?) and "
    "**honesty** (is it true?). Explain your choice in one or two sentences.",
    "transcription": "Write exactly what is said, in plain sentences.\n\n"
    "- Numbers as words (*nine thirty*, not *9:30*).\n"
    "- Correct the machine draft where it is wrong.",
}
SCHEMAS = {
    "bbox": {
        "labels": [
            {"name": "person", "colour": "#e6194b", "hotkey": 1},
            {"name": "animal", "colour": "#3cb44b", "hotkey": 2},
            {"name": "vehicle", "colour": "#4363d8", "hotkey": 3},
            {"name": "object", "colour": "#f58231", "hotkey": 4},
        ],
        "min_size": 4,
        "allow_empty": True,
    },
    "ranking": {
        "mode": "rank",
        "strength_scale": 3,
        "criteria": ["helpfulness", "harmlessness", "honesty"],
        "rationale": "optional",
    },
    "transcription": {
        "media": "audio",
        "normalisation": ["collapse_whitespace", "lowercase", "strip_punctuation"],
        "segments": False,
    },
}
PROJECT_NAMES = {
    "bbox": "Street scenes: people, animals, vehicles",
    "ranking": "Assistant answers: preference ranking",
    "transcription": "Short voice clips",
}


class Command(BaseCommand):
    help = "Create the demo organization, people and projects (safe to run again)."

    def handle(self, *args, **options) -> None:
        with transaction.atomic():
            created = self.seed()
        # Each answer is its own transaction, as in real use (the queue's are durable).
        User = get_user_model()
        for project in Project.objects.filter(
            organization__slug="acme-ai", name__in=PROJECT_NAMES.values()
        ):
            if not Annotation.objects.filter(task__project=project).exists():
                for username in ("ana", "ben"):
                    self.answer_open_tasks(project, User.objects.get(username=username))
        self.stdout.write(self.style.SUCCESS(f"Demo data ready ({created} new tasks)."))
        self.stdout.write(f"Demo logins (password {DEMO_PASSWORD!r} for all):")
        for username, full_name, role, _admin, staff in PEOPLE:
            extra = ", staff (admin site)" if staff else ""
            self.stdout.write(f"  {username:<6} {full_name} — {role.label.lower()}{extra}")

    def seed(self) -> int:
        org, _ = Organization.objects.get_or_create(slug="acme-ai", defaults={"name": "Acme AI"})
        users = {}
        User = get_user_model()
        for username, full_name, _role, is_admin, staff in PEOPLE:
            first, last = full_name.split(" ", 1)
            user, made = User.objects.get_or_create(
                username=username,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "is_staff": staff,
                    "is_superuser": staff,
                },
            )
            if made:
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
            OrganizationMember.objects.get_or_create(
                organization=org, user=user, defaults={"is_admin": is_admin}
            )
            users[username] = user
        created = 0
        for kind_name, project_name in PROJECT_NAMES.items():
            project, _ = Project.objects.get_or_create(
                organization=org,
                name=project_name,
                defaults={
                    "kind": kind_name,
                    "schema": SCHEMAS[kind_name],
                    "quality": {**default_quality(), "overlap": 2},
                    "instructions": INSTRUCTIONS[kind_name],
                    "created_by": users["maria"],
                },
            )
            for username, _name, role, _admin, _staff in PEOPLE:
                ProjectMember.objects.get_or_create(
                    project=project, user=users[username], defaults={"role": role}
                )
            existing = set(project.tasks.values_list("external_id", flat=True))
            created += getattr(self, f"seed_{kind_name}")(project, existing)
        return created

    def answer_open_tasks(self, project: Project, contributor) -> None:
        """Play a contributor through a few tasks of the real queue, so the dashboards have
        something to show.

        Ana answers carefully; Ben is close but sloppier (shifted boxes, a word wrong, a swapped
        ranking), which gives the agreement and review figures something to measure.
        """
        careful = contributor.username == "ana"
        for _ in range(DEMO_ANSWERS_EACH):
            assignment = assignment_claim_next(project=project, contributor=contributor)
            if assignment is None:
                break
            answer = demo_answer(assignment.task, careful=careful)
            annotation_submit(
                assignment_id=assignment.pk,
                contributor=contributor,
                result=answer,
                active_seconds=25 if careful else 14,
            )

    def seed_bbox(self, project: Project, existing: set[str]) -> int:
        count = 0
        for priority, name in enumerate(IMAGES):
            external_id = f"demo-image-{name}"
            if external_id in existing:
                continue
            with (DEMO_DIR / "images" / f"{name}.jpg").open("rb") as file:
                task_create_with_media(
                    project=project,
                    media_field="image",
                    file=file,
                    filename=f"{name}.jpg",
                    external_id=external_id,
                    gold=CHELSEA_GOLD if name == "chelsea" else None,
                    priority=len(IMAGES) - priority,
                )
            count += 1
        return count

    def seed_ranking(self, project: Project, existing: set[str]) -> int:
        count = 0
        for item in json.loads((DEMO_DIR / "ranking.json").read_text()):
            if item["external_id"] in existing:
                continue
            task_create(project=project, data=item["data"], external_id=item["external_id"])
            count += 1
        return count

    def seed_transcription(self, project: Project, existing: set[str]) -> int:
        count = 0
        for number, sentence in enumerate(SENTENCES, start=1):
            external_id = f"demo-clip-{number}"
            if external_id in existing:
                continue
            data = {"draft": DRAFTS[number]} if number in DRAFTS else {}
            with (DEMO_DIR / "audio" / f"clip{number}.flac").open("rb") as file:
                task_create_with_media(
                    project=project,
                    media_field="audio",
                    file=file,
                    filename=f"clip{number}.flac",
                    data=data,
                    external_id=external_id,
                    gold={"text": sentence} if number == 1 else None,
                )
            count += 1
        return count
