"""Load LabelHub's demo: one organization, one project of each task kind, two weeks of history.

Each project gets a few hundred tasks (``--tasks``, 300 by default) made from the photographs and
speech clips in ``demo`` and from ranking templates (see :mod:`demo.content`),
about one in twelve of them gold; the agent runs' project gets at most 60, made of the dozen
hand-written runs of ``kinds/trajectory/demo.py``. (The RL environments and the eval set come with
their own content and no simulated history.) Then four simulated contributors work through them
for two weeks through the real services, exactly as the screens would: they claim their next
task from the queue, submit an answer derived from the true one with their own kind of error
(:mod:`demo.people`), now and then skip; the quality step judges what they submit
(standing, gold scores, the accuracy-floor pause, consensus, routing to review, webhooks); Rui
reviews what lands in his queue each evening (accepting, fixing or rejecting against the true
answer) and Maria flags a task for a second look. Nothing is written around the services: what
the pages show is what those rules decided.

How the history gets its dates: while it is made, ``django.utils.timezone.now`` returns a
simulated clock that starts two weeks ago and ends shortly before the real now, so every row
(answers, outcomes, reviews, deliveries, the audit log) carries the time it would have had and the
dashboard's "agreement per day" has a line to draw. Nothing is back-dated afterwards.

Background work (the quality step, webhook deliveries and their retries) is played by a worker
inside the seed, whatever ``TASKS_BACKEND`` says: what the services enqueue is kept in memory and
run after every dozen answers and, for retries, when the simulated clock reaches the time they
were deferred to, as ``manage.py db_worker`` would. So the simulated people meet the consequences
of their answers (the pause) a moment after they happen, as real people would, and the quality
step judges a few answers at a time, as it does under load.

Webhooks: one ranking prompt in seven carries a callback URL, as if a pipeline had sent them.
Nothing receives it in a demo, so the URL is an address reserved for documentation (RFC 5737),
which the webhooks refuse to call without touching the network: the delivery log shows real
attempts, retries on the real backoff schedule and, after 24 hours, deliveries given up. (An
import would refuse that URL up front; the demo sets it on its own tasks to show what the log
looks like when a receiver is unreachable.)

Safe to run again: people are created once (passwords are never reset) and a project that exists
is left as it is, history and all.
"""

import logging
import math
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from io import BytesIO
from unittest import mock

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import AbstractBaseUser
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.tasks import task_backends
from django.test.utils import override_settings
from django.utils import timezone

import kinds
from annotation.models import (
    Annotation,
    ContributorStatus,
    DeliveryStatus,
    ProjectContributor,
    Task,
    TaskStatus,
    WebhookDelivery,
)
from annotation.queue import (
    QueueRefusal,
    annotation_submit,
    assignment_claim_next,
    assignment_skip,
)
from annotation.services import task_create, task_create_with_media
from demo import content, people
from demo.environment import seed_environment_project
from evals.demo import seed_eval_set
from kinds.trajectory import demo as trajectory_demo
from labelhub.models import (
    Organization,
    OrganizationMember,
    Project,
    ProjectMember,
    Role,
    Skill,
    SkillLevel,
)
from labelhub.services import project_create, project_member_add
from pay.services import organization_pay_save, project_pay_save
from people.invitations import (
    InviteRow,
    invitation_accept,
    invitation_create_link,
    invitation_create_many,
)
from people.skills import (
    Need,
    person_skill_set,
    person_skill_verify,
    profile_update,
    project_requirements_set,
    skill_create,
)
from quality import selectors
from quality.models import Review, TaskOutcome, Verdict
from quality.services import review_record, task_flag_for_review

DEMO_PASSWORD = "labelhub-demo"  # noqa: S105 - printed to the person running the demo
ORGANIZATION = ("acme-ai", "Acme AI")
# username, full name, role on every demo project, organization admin, staff, how they work
PEOPLE: list[tuple[str, str, Role, bool, bool, people.Profile | None]] = [
    ("maria", "Maria Manager", Role.MANAGER, True, True, None),
    ("rui", "Rui Reviewer", Role.REVIEWER, False, False, None),
    ("ana", "Ana Contributor", Role.CONTRIBUTOR, False, False, people.CAREFUL),
    ("ben", "Ben Contributor", Role.CONTRIBUTOR, False, False, people.AVERAGE),
    ("carla", "Carla Costa", Role.CONTRIBUTOR, False, False, people.CAREFUL),
    ("dev", "Dev Okafor", Role.CONTRIBUTOR, False, False, people.AVERAGE),
    ("sam", "Sam Rivera", Role.CONTRIBUTOR, False, False, people.SLOPPY),
    ("pia", "Pia Lund", Role.CONTRIBUTOR, False, False, people.CARELESS),
]
# Who works through the two weeks; Ana and Ben only try a few tasks today, and keep plenty of
# work waiting for whoever logs in as them.
SIMULATED = ["carla", "dev", "sam", "pia"]
TRIED_TODAY = {"ana": 3, "ben": 3}

DAYS = 14
DEFAULT_TASKS = 300
GOLD_EVERY = 12  # one task in twelve is gold (at least MIN_GOLD of them)
MIN_GOLD = 10
FILL = 0.75  # share of the answer slots the simulated people take on over the two weeks
# Conversations are rarely rejected (no answer goes back to the queue): fewer slots are taken,
# so work is left to label there too.
FILL_OF = {"conversation": 0.5}
# The agent runs are a dozen hand-written ones, each several times: a project a fifth the size
# of the others (it also keeps the seed quick: judging a run is the slowest answer to check).
TASKS_AT_MOST = {"trajectory": 60}
SKIP_RATE = 0.02
BACKGROUND_EVERY = 12  # the worker catches up after this many submissions (a few seconds' lag)
SKIP_REASONS = ["Not sure what counts here.", "The media would not load.", "Need a break."]
REVIEWED_EACH_EVENING = 0.7  # share of the review queue Rui clears each day (not on the last)
CALLBACK_URL = "https://203.0.113.10/hooks/labelhub"  # TEST-NET-3, RFC 5737: never answers
CALLBACK_EVERY = 7  # one ranking prompt in seven came with a callback URL

# The organization's directory: its skill list, each person's profile (display name, languages,
# time zone) and skills (name, level, verified by Maria?); Lea is in the organization only.
DIRECTORY_SKILLS = [
    ("python", "Reads and writes Python: judges code in model answers"),
    ("medicine", "Clinical training: judges medical answers"),
    ("legal-de", "German law"),
    ("transcription-en", "Careful English transcription"),
]
DIRECTORY = {
    "maria": ("Maria", ["en", "pt"], "Europe/Lisbon", []),
    "rui": ("Rui", ["pt", "en"], "Europe/Lisbon", [("python", 2, True)]),
    "ana": ("Ana", ["en", "es"], "Europe/Madrid", [("medicine", 3, False)]),
    "ben": ("Ben", ["en", "de"], "Europe/Berlin", [("legal-de", 1, False)]),
    "carla": ("Carla", ["en", "it"], "Europe/Rome", [("python", 3, True)]),
    "dev": ("Dev", ["en", "hi"], "Asia/Kolkata", [("python", 2, False)]),
    "sam": ("Sam", ["en"], "America/New_York", [("transcription-en", 2, True)]),
    "pia": ("Pia", ["en", "sv"], "Europe/Stockholm", [("transcription-en", 1, False)]),
    "lea": ("Lea Park", ["en", "ko"], "Asia/Seoul", [("python", 3, False), ("medicine", 1, False)]),
}
PENDING_INVITATION = "noor@acme.example"

PROJECTS = {
    "bbox": "Street scenes: people, animals, vehicles",
    "ranking": "Assistant answers: preference ranking",
    "transcription": "Short voice clips",
    "conversation": "Assistant chats: rubric grading",
    "trajectory": trajectory_demo.PROJECT["name"],
}
INSTRUCTIONS = {
    "bbox": "Draw a tight box around **every** person, animal, vehicle and object.\n\n"
    "- *Object* is anything else that stands on its own: a cup, a spoon, a coin, a tower.\n"
    "- Include parts hidden behind other things only if you can see where they end.\n"
    "- Box something cut by the edge of the picture only if at least half of it is in it.\n"
    "- Skip objects smaller than 10 pixels.",
    "ranking": "Order the responses from best to worst.\n\n"
    "Judge **helpfulness** (does it answer?), **harmlessness** (is it safe?) and "
    "**honesty** (is it true?). Explain your choice in one or two sentences.",
    "conversation": "Score each assistant reply on the rubric.\n\n"
    "- **Accuracy**: 5 is fully right, 1 is wrong.\n"
    "- **Helpfulness**: 3 answers the question as asked.\n"
    "- Rewrite a reply that is wrong or weak with the reply it should have been.",
    "transcription": "Write exactly what is said, in plain sentences.\n\n"
    "- Numbers as words (*nine thirty*, not *9:30*).\n"
    "- Correct the machine draft where it is wrong.",
    "trajectory": trajectory_demo.PROJECT["instructions"],
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
        "criteria": content.CRITERIA,
        "rationale": "optional",
    },
    "conversation": {
        "modes": ["rate", "rewrite"],
        "criteria": [
            {
                "name": "accuracy",
                "scale": 5,
                "per": "turn",
                "labels": ["wrong", "mostly wrong", "partly right", "mostly right", "right"],
            },
            {"name": "helpfulness", "scale": 3, "per": "turn", "labels": []},
            {"name": "overall", "scale": 5, "per": "conversation", "labels": []},
        ],
        "error_types": [
            {"name": "factual error", "severity": "major"},
            {"name": "unsafe", "severity": "critical"},
        ],
        "rationale": "optional",
    },
    "transcription": {
        "media": "audio",
        "normalisation": ["collapse_whitespace", "lowercase", "strip_punctuation"],
        "segments": False,
    },
    "trajectory": trajectory_demo.SCHEMA,
}
# Two answers per task, a gold task one claim in five, an accuracy floor that pauses the careless
# one within a few gold answers and leaves the sloppy one working, and an agreement bar that sends
# real disagreements to review (both set from what the profiles produce).
SHARED_QUALITY = {"overlap": 2, "gold_rate": 0.2, "accuracy_floor": 0.7, "review_share": 0.1}
AGREEMENT_NEEDED = {
    "bbox": 0.7,
    "ranking": 0.7,
    "transcription": 0.85,
    "conversation": 0.6,
    "trajectory": trajectory_demo.AGREEMENT_NEEDED,
}
REJECT_COMMENTS = {
    "bbox": "Most objects are missing or the boxes are far off; please look again.",
    "ranking": "This order puts a wrong or unsafe answer first.",
    "transcription": "Several words do not match the audio.",
    "conversation": "The scores do not match the replies: re-read both turns.",
    "trajectory": "The step ratings miss where the run went wrong: read each step's result.",
}
# What a reviewer's fix adds to the true answer, per kind (rankings carry a rationale).
FIX_ADDS = {"ranking": {"rationale": "Reviewer's order: the correct, complete answer first."}}


class SimulatedClock:
    """The demo's "now" while its history is made; it only moves forward."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)

    def move_to(self, when: datetime) -> None:
        self.current = max(self.current, when)


@contextmanager
def quiet_task_log() -> Iterator[None]:
    """Thousands of background tasks would each log two lines in debug mode (the environment
    project's proofs and the eval set's too, on the real clock)."""
    logger = logging.getLogger("django.tasks")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


# Rates per project (USD; the organization's fair-pay floor is 15 per active hour). Boxes pay
# little per image, so that project's median effective pay lands under the floor and its
# dashboard shows the warning; transcription pays per active hour.
DEMO_RATES = {
    "bbox": {"basis": "task", "accepted_rate": "0.08", "rejected_rate": "0.02"},
    "ranking": {
        "basis": "task",
        "accepted_rate": "0.40",
        "rejected_rate": "0.10",
        "bonus_per_task": "0.05",
        "bonus_accuracy": 0.7,
    },
    "transcription": {"basis": "hour", "hourly_rate": "18.00"},
    "conversation": {"basis": "task", "accepted_rate": "2.50", "rejected_rate": "0.50"},
    "trajectory": {"basis": "task", "accepted_rate": "1.50", "rejected_rate": "0.40"},
}


@dataclass
class Person:
    """A contributor the seed plays."""

    user: AbstractBaseUser
    profile: people.Profile
    refused: str = ""  # why the queue stopped giving them work (a pause), once it has


@dataclass
class DemoProject:
    """A project being simulated, with what only the simulation knows: the true answers."""

    project: Project
    truths: dict[int, dict] = field(default_factory=dict)  # task id → true answer
    durations: dict[int, float] = field(default_factory=dict)  # task id → seconds of audio
    crowd: dict[str, Person] = field(default_factory=dict)
    claims_per_day: float = 0.0

    @property
    def kind(self) -> str:
        return self.project.kind


class Command(BaseCommand):
    help = "Create the demo organization, people and projects with two weeks of history."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--tasks",
            type=int,
            default=DEFAULT_TASKS,
            help=f"tasks per project (default {DEFAULT_TASKS}; the tests use fewer)",
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=2024,
            help="seed of the demo's own choices (the services' dice still differ run to run)",
        )

    def handle(self, *args, **options) -> None:
        count = options["tasks"]
        if count < 40:
            raise CommandError("Give at least 40 tasks per project (--tasks).")
        # With DEBUG on (make run), Django keeps every statement in memory and on SQLite asks the
        # database to quote each one's parameters: a tenth of the seed's CPU for a log nobody
        # reads. Nothing the seed calls behaves differently with DEBUG off.
        with quiet_task_log(), override_settings(DEBUG=False):
            self.seed(count, options["seed"])

    def seed(self, count: int, seed: int) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - a simulation, not a secret
        self.submitted = 0
        now = timezone.now()
        # The last day's work starts six hours before now, so it is over before now.
        self.day_starts = [now - timedelta(days=DAYS - 1 - day, hours=6) for day in range(DAYS)]
        self.end = now - timedelta(minutes=5)
        self.clock = SimulatedClock(self.day_starts[0] - timedelta(hours=2))
        queued = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
        with (
            override_settings(TASKS=queued),
            mock.patch.object(timezone, "now", self.clock),
        ):
            users = self.seed_people()
            built, kept = self.seed_projects(users, count)
            # The history needs every answer to commit (the quality step runs after commit), so
            # inside a transaction someone else holds open (a TestCase) there is none to make.
            in_transaction = transaction.get_connection().in_atomic_block
            if built and not in_transaction:
                self.simulate(built, users)
        self.seed_directory(users)  # on the real clock: the invitations expire from now
        seed_eval_set(
            organization=self.organization, manager=users["maria"], experts=[users["ana"]]
        )
        self.report(built, kept)
        self.stdout.write(
            seed_environment_project(
                organization=self.organization,
                manager=users["maria"],
                author=users["ana"],
                reviewer=users["rui"],
            )
        )
        if built and in_transaction:
            self.stdout.write("Inside an open transaction: tasks made, no history simulated.")

    # --- people and projects ---------------------------------------------------------------

    def seed_people(self) -> dict[str, AbstractBaseUser]:
        slug, name = ORGANIZATION
        org, _ = Organization.objects.get_or_create(slug=slug, defaults={"name": name})
        User = get_user_model()
        users = {}
        password = make_password(DEMO_PASSWORD)  # hashed once: each hash takes half a second
        for username, full_name, _role, is_admin, staff, _profile in PEOPLE:
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
                user.password = password
                user.save(update_fields=["password"])
            OrganizationMember.objects.get_or_create(
                organization=org, user=user, defaults={"is_admin": is_admin}
            )
            users[username] = user
        self.organization = org
        organization_pay_save(
            organization=org, actor=None, values={"currency": "USD", "fair_pay_floor": "15"}
        )
        return users

    def seed_directory(self, users: dict[str, AbstractBaseUser]) -> None:
        """The organization's people beyond the projects: emails, profiles, the skill list with
        levels (some verified by Maria), Lea who joined by an invitation and is offered the open
        ranking project, and one invitation still pending. Made once."""
        org, maria = self.organization, users["maria"]
        if Skill.objects.filter(organization=org).exists():
            return
        with transaction.atomic():
            for username, user in users.items():
                if not user.email:
                    user.email = f"{username}@acme.example"
                    user.save(update_fields=["email"])
            for name, description in DIRECTORY_SKILLS:
                skill_create(organization=org, name=name, description=description, actor=maria)
            lea = get_user_model().objects.filter(username="lea").first()
            if lea is None:
                lea = get_user_model().objects.create(
                    username="lea",
                    first_name="Lea",
                    last_name="Park",
                    email="lea@acme.example",
                    password=maria.password,  # the demo password, already hashed
                )
            lea_invite = invitation_create_link(
                organization=org, actor=maria, max_uses=1, expires_in_days=14
            )
            invitation_accept(token=lea_invite.token, user=lea)
            everyone = {**users, "lea": lea}
            for username, (display, languages, zone, skills) in DIRECTORY.items():
                person = everyone[username]
                profile_update(
                    user=person, display_name=display, languages=languages, time_zone=zone
                )
                for skill, level, verified in skills:
                    person_skill_set(
                        organization=org, user=person, skill=skill, level=level, actor=person
                    )
                    if verified:
                        person_skill_verify(organization=org, user=person, skill=skill, actor=maria)
            ranking = Project.objects.filter(organization=org, name=PROJECTS["ranking"]).first()
            if ranking is not None:
                project_requirements_set(
                    project=ranking,
                    needs=[Need(skill="python", level=SkillLevel.PROFESSIONAL)],
                    languages=["en"],
                    is_open=True,
                    actor=maria,
                )
            clips = Project.objects.filter(organization=org, name=PROJECTS["transcription"]).first()
            invitation_create_many(
                organization=org,
                actor=maria,
                rows=[InviteRow(email=PENDING_INVITATION, role="contributor", project=clips or "")],
                base_url="http://127.0.0.1:8000/",
                send=False,
            )

    def seed_projects(
        self, users: dict[str, AbstractBaseUser], count: int
    ) -> tuple[list[DemoProject], list[Project]]:
        built, kept = [], []
        for kind_name, name in PROJECTS.items():
            existing = Project.objects.filter(organization=self.organization, name=name).first()
            if existing is not None:
                kept.append(existing)
                continue
            with transaction.atomic():
                built.append(self.build_project(kind_name, name, users, count))
        return built, kept

    def build_project(
        self, kind_name: str, name: str, users: dict[str, AbstractBaseUser], count: int
    ) -> DemoProject:
        maria = users["maria"]
        project = project_create(
            user=maria,
            organization=self.organization,
            name=name,
            kind=kind_name,
            schema=SCHEMAS[kind_name],
            quality={**SHARED_QUALITY, "agreement_threshold": AGREEMENT_NEEDED[kind_name]},
            instructions=INSTRUCTIONS[kind_name],
        )
        for username, _name, role, _admin, _staff, _profile in PEOPLE:
            if username != maria.get_username():
                project_member_add(project=project, username=username, role=role, actor=maria)
        # Pay, so the history earns: statements, the ledger and the fair-pay check have figures.
        project_pay_save(project=project, actor=maria, values=DEMO_RATES[kind_name])
        demo = DemoProject(project=project)
        items = getattr(content, f"{kind_name}_tasks")(
            min(count, TASKS_AT_MOST.get(kind_name, count)), self.rng
        )
        gold_every = min(GOLD_EVERY, max(2, len(items) // MIN_GOLD))
        callbacks = []
        for n, item in enumerate(items):
            gold = item.truth if n % gold_every == gold_every // 2 else None
            if item.media is not None:
                filename, data = item.media
                task = task_create_with_media(
                    project=project,
                    media_field=next(iter(project.task_kind.media_fields)),
                    file=BytesIO(data),
                    filename=filename,
                    data=item.data,
                    external_id=item.external_id,
                    gold=gold,
                )
            else:
                task = task_create(
                    project=project, data=item.data, external_id=item.external_id, gold=gold
                )
            demo.truths[task.pk] = task.gold if gold is not None else item.truth
            demo.durations[task.pk] = float(task.media_meta.get("duration", 0.0))
            if kind_name == "ranking" and gold is None and n % CALLBACK_EVERY == 1:
                callbacks.append(task.pk)
        # Set directly: the import checks callback URLs and would refuse this one (see above).
        Task.objects.filter(pk__in=callbacks).update(callback_url=CALLBACK_URL)
        real = sum(1 for n in range(len(items)) if n % gold_every != gold_every // 2)
        overlap = project.quality["overlap"]
        demo.claims_per_day = FILL_OF.get(kind_name, FILL) * overlap * real / DAYS
        for username, *_rest, profile in PEOPLE:
            if profile is not None:
                demo.crowd[username] = Person(user=users[username], profile=profile)
        return demo

    # --- the two weeks -----------------------------------------------------------------------

    def simulate(self, projects: list[DemoProject], users: dict[str, AbstractBaseUser]) -> None:
        """Fourteen days of work, each evening's review, and last of all, within the last hour
        or two, Ana's and Ben's first few tasks (so that "done today" counts them, unless today
        has only just begun); the last day's queue is left for whoever logs in as Rui."""
        tried_at = self.end - timedelta(minutes=90)  # eighteen answers take under an hour
        for day, start in enumerate(self.day_starts):
            self.clock.move_to(start)
            last = day == DAYS - 1
            for demo in projects:
                self.work(demo, day)
                if not last:
                    self.review(demo, users["rui"])
                if day == DAYS - 2:
                    self.flag_one(demo, users["maria"])
            self.run_background(until=tried_at if last else self.day_starts[day + 1])
        self.clock.move_to(tried_at)
        for demo in projects:
            for username, count in TRIED_TODAY.items():
                self.answer_some(demo, demo.crowd[username], count)
        self.run_background(until=self.end)
        self.clock.move_to(self.end)

    def work(self, demo: DemoProject, day: int) -> None:
        """One day's session: the people of the day take turns until each has done their share
        (or the queue has nothing more for them, or refuses them)."""
        busy = self.rng.uniform(0.6, 1.4)  # some days are busier than others
        left = {}
        for username in SIMULATED:
            person = demo.crowd[username]
            if person.refused or day < person.profile.first_day:
                continue
            share = round(demo.claims_per_day * person.profile.daily * busy)
            left[username] = max(share, person.profile.min_daily)
        while any(left.values()):
            turn = [username for username, n in left.items() if n > 0]
            self.rng.shuffle(turn)
            for username in turn:
                done = self.answer_one(demo, demo.crowd[username])
                left[username] = left[username] - 1 if done else 0
        self.run_background()

    def answer_some(self, demo: DemoProject, person: Person, count: int) -> None:
        for _ in range(count):
            if not self.answer_one(demo, person):
                break
        self.run_background()

    def answer_one(self, demo: DemoProject, person: Person) -> bool:
        """Claim the next task and answer (or skip) it; False when there is no work for them."""
        if person.refused:
            return False
        try:
            assignment = assignment_claim_next(project=demo.project, contributor=person.user)
        except QueueRefusal as refusal:
            person.refused = refusal.message
            return False
        if assignment is None:
            return False
        task = assignment.task
        if self.rng.random() < SKIP_RATE:
            assignment_skip(
                assignment_id=assignment.pk,
                contributor=person.user,
                reason=self.rng.choice(SKIP_REASONS),
            )
            self.clock.advance(self.rng.uniform(5, 20))
            return True
        truth = demo.truths[task.pk]
        data = {**task.data, "duration": demo.durations.get(task.pk, 0.0)}
        result = people.answer(demo.kind, truth, data, person.profile, self.rng)
        seconds = people.active_seconds(demo.kind, truth, data, person.profile, self.rng)
        # The person holds the task while they work on it (and a little longer): the lease
        # time the ledger records beside the editor's active time.
        self.clock.advance(seconds + self.rng.uniform(5, 40))
        annotation_submit(
            assignment_id=assignment.pk,
            contributor=person.user,
            result=result,
            active_seconds=seconds,
        )
        self.submitted += 1
        if self.submitted % BACKGROUND_EVERY == 0:
            self.run_background()
        return True

    def review(self, demo: DemoProject, reviewer: AbstractBaseUser) -> None:
        """Rui's evening: most of the queue, oldest first, judged against the true answer."""
        waiting = selectors.review_queue(project=demo.project, limit=500)
        for task in waiting[: math.ceil(len(waiting) * REVIEWED_EACH_EVENING)]:
            verdict, result, comment, rejected = self.verdict_for(demo, task)
            review_record(
                task_id=task.pk,
                project=demo.project,
                reviewer=reviewer,
                verdict=verdict,
                version=task.outcome.version,
                result=result,
                comment=comment,
                reject_annotation_ids=rejected,
            )
            self.clock.advance(self.rng.uniform(20, 90))
        self.run_background()

    def verdict_for(
        self, demo: DemoProject, task: Task
    ) -> tuple[str, dict | None, str, list[int] | None]:
        """Accept a proposal that matches the truth, reject answers far from it (the task goes
        back to the queue), fix the rest to the truth."""
        kind = kinds.get(demo.kind)
        schema, quality = demo.project.schema, demo.project.quality
        truth = demo.truths[task.pk]

        def score(result: dict) -> float:
            return float(kind.score(result, truth, schema=schema, quality=quality))

        if score(task.outcome.proposal) >= 0.95:
            return Verdict.ACCEPT, None, "", None
        answers = list(selectors.counted_annotations(task))
        bad = [a.pk for a in answers if score(a.result) < 0.5]
        if bad:
            return Verdict.REJECT, None, REJECT_COMMENTS[demo.kind], bad
        fix = {**truth, **FIX_ADDS.get(demo.kind, {})}
        return Verdict.FIX, fix, "", None

    def flag_one(self, demo: DemoProject, manager: AbstractBaseUser) -> None:
        """Maria asks for a second look at one accepted task (it joins the review queue)."""
        accepted = list(
            Task.objects.filter(project=demo.project, status=TaskStatus.ACCEPTED).values_list(
                "pk", flat=True
            )[:50]
        )
        if accepted:
            task_flag_for_review(
                task_id=self.rng.choice(accepted),
                project=demo.project,
                actor=manager,
                note="The customer asked about this one; please check it again.",
            )

    def run_background(self, *, until: datetime | None = None) -> None:
        """Be the worker: run the background tasks the services queued, in order, and those
        deferred (webhook retries) once the clock reaches their time; with ``until``, let the
        clock run on to each deferred task due before then."""
        backend = task_backends["default"]
        while backend.results:
            now = self.clock()
            due = [
                r for r in backend.results if r.task.run_after is None or r.task.run_after <= now
            ]
            if not due:
                later = min(r.task.run_after for r in backend.results)
                if until is None or later > until:
                    return
                self.clock.move_to(later)
                continue
            backend.results.remove(due[0])
            due[0].task.call(*due[0].args, **due[0].kwargs)

    # --- what was made -------------------------------------------------------------------------

    def report(self, built: list[DemoProject], kept: list[Project]) -> None:
        for demo in built:
            project = demo.project
            outcomes = TaskOutcome.objects.filter(project=project)
            paused = ProjectContributor.objects.filter(
                project=project, status=ContributorStatus.PAUSED
            ).select_related("user")
            deliveries = WebhookDelivery.objects.filter(project=project)
            self.stdout.write(
                f"{project.name}: {project.tasks.count()} tasks "
                f"({project.tasks.filter(is_gold=True).count()} gold), "
                f"{Annotation.objects.filter(task__project=project).count()} answers, "
                f"{outcomes.filter(accepted_at__isnull=False).count()} accepted, "
                f"{project.tasks.filter(status=TaskStatus.IN_REVIEW).count()} waiting for review, "
                f"{Review.objects.filter(project=project).count()} reviews, "
                f"{deliveries.count()} webhook deliveries "
                f"({deliveries.filter(status=DeliveryStatus.FAILED).count()} given up); "
                f"paused: {', '.join(pc.user.get_username() for pc in paused) or 'nobody'}"
            )
        for project in kept:
            self.stdout.write(f"{project.name}: already there, left as it is.")
        simulated = ProjectMember.objects.filter(user__username__in=SIMULATED)
        if any(not simulated.filter(project=project).exists() for project in kept):
            self.stdout.write(
                "Some come from an older, smaller demo; delete the database (make clean) to "
                "load the current one."
            )
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(f"Demo logins (password {DEMO_PASSWORD!r} for all):")
        for username, full_name, role, _admin, staff, profile in PEOPLE:
            extra = ", staff (admin site)" if staff else ""
            how = f", {profile.name}" if profile is not None else ""
            self.stdout.write(f"  {username:<6} {full_name} — {role.label.lower()}{how}{extra}")
        self.stdout.write(
            "  lea    Lea Park — in the organization only: the open ranking project waits on her "
            f"home page; Maria's People page (/organizations/{ORGANIZATION[0]}/people/) has an "
            f"invitation to {PENDING_INVITATION} pending"
        )
