"""The demo's environment project: three authored tasks, proven in the sandbox and submitted;
the reviewer has accepted the first, the others wait for review. The tasks themselves are in
``kinds/environment/demo.py`` (the kind's folder); ``seed_demo`` calls
:func:`seed_environment_project`."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from annotation.queue import annotation_submit, assignment_claim_next
from annotation.services import task_create
from kinds.environment import demo
from labelhub.models import Organization, Project, Role
from labelhub.services import project_create, project_member_add
from quality.models import TaskOutcome
from quality.services import review_record
from sandbox import runner
from sandbox.services import proof_request, proof_run

NAME = "RL environments: tasks for agents"
INSTRUCTIONS = (
    "Write one task for an agent per brief: the instruction, the starting files, the tools, a "
    "verifier, a reference solution and a plausible wrong attempt. Press **Check**: LabelHub "
    "runs both in a sandbox, and Submit opens once the verifier passes the solution, fails the "
    "wrong attempt and gives the same reward twice."
)


def seed_environment_project(
    *,
    organization: Organization,
    manager: AbstractBaseUser,
    author: AbstractBaseUser,
    reviewer: AbstractBaseUser,
) -> str:
    """Make the project unless it is there; say in a line what was made."""
    if Project.objects.filter(organization=organization, name=NAME).exists():
        return f"{NAME}: already there, left as it is."
    with transaction.atomic():
        project = project_create(
            user=manager,
            organization=organization,
            name=NAME,
            kind="environment",
            quality={"review_policy": "share", "review_share": 1.0, "lease_minutes": 240},
            instructions=INSTRUCTIONS,
        )
        project_member_add(
            project=project, username=author.get_username(), role=Role.CONTRIBUTOR, actor=manager
        )
        project_member_add(
            project=project, username=reviewer.get_username(), role=Role.REVIEWER, actor=manager
        )
        tasks = [
            task_create(project=project, data=brief, external_id=f"env-{n}")
            for n, brief in enumerate(demo.BRIEFS, start=1)
        ]
    if not runner.available():
        return f"{NAME}: {len(tasks)} briefs; bubblewrap is missing, so nothing was proven."
    for result in demo.TASKS:
        assignment = assignment_claim_next(project=project, contributor=author)
        proof = proof_request(
            task=assignment.task, user=author, result=result, assignment=assignment
        )
        proof_run(proof_id=proof.pk)  # here, not queued: the demo shows it done
        annotation_submit(
            assignment_id=assignment.pk, contributor=author, result=result, active_seconds=900
        )
    first = tasks[0]
    outcome = TaskOutcome.objects.filter(task=first).first()
    if outcome is not None:
        review_record(
            task_id=first.pk,
            project=project,
            reviewer=reviewer,
            verdict="accept",
            version=outcome.version,
        )
    return f"{NAME}: {len(demo.TASKS)} tasks authored and proven, the first accepted."
