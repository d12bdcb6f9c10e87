"""The demo's eval set, loaded from ``kinds.rubric_eval.demo``: the prompts and rubrics, two
versions of an assistant's responses, and the experts' grades of the first eight prompts (so the
leaderboard has numbers and the rest is waiting to be graded or routed). Made once."""

import orjson
from django.db import transaction

from annotation import queue
from annotation.models import Task
from evals import services
from evals.models import Response
from kinds.rubric_eval import demo, formats
from kinds.rubric_eval.kind import RubricEvalKind
from labelhub.models import Organization, Project, ProjectMember, Role
from quality.judging import judging_run

NAME = "Everyday health answers: rubric eval"


def seed_eval_set(*, organization: Organization, manager, experts: list) -> Project | None:
    """The eval-set project with its content; ``None`` when it is there already."""
    if Project.objects.filter(organization=organization, name=NAME).exists():
        return None
    with transaction.atomic():
        project = Project.objects.create(
            organization=organization,
            name=NAME,
            kind=RubricEvalKind.name,
            schema={"mode": "grade", "evidence": "optional", "tags": []},
            quality={"overlap": 1},
            instructions="Grade each criterion: **met** or **not met**. A negative criterion is "
            "a mistake: it is met when the response makes it. Quote the response as evidence "
            "where it helps.",
        )
        ProjectMember.objects.create(project=project, user=manager, role=Role.MANAGER)
        for expert in experts:
            ProjectMember.objects.create(project=project, user=expert, role=Role.CONTRIBUTOR)
        rows = [{k: v for k, v in p.items() if k != "answers"} for p in demo.PROMPTS]
        services.items_import(
            project=project, prompts=formats.healthbench_read([orjson.dumps(r) for r in rows])
        )
        services.responses_import(
            project=project,
            rows=[
                {"task": p["prompt_id"], "model": demo.MODEL, "version": v, "response": text}
                for p in demo.PROMPTS
                for v, text in p["answers"].items()
            ],
        )
        graded = Response.objects.filter(project=project, item__key__in=list(demo.GRADES))
        services.response_tasks_create(
            project=project, responses=list(graded.select_related("item"))
        )
    expert = experts[0]
    while assignment := queue.assignment_claim_next(project=project, contributor=expert):
        task = Task.objects.select_related("eval_part__response").get(pk=assignment.task_id)
        response = task.eval_part.response
        met = set(demo.GRADES[task.data["prompt_id"]][response.version])  # by position: c1…
        result = {
            "verdicts": {
                c["id"]: {"met": f"c{i}" in met} for i, c in enumerate(task.data["rubric"], start=1)
            }
        }
        queue.annotation_submit(assignment_id=assignment.pk, contributor=expert, result=result)
    judging_run(project_id=project.pk)
    return project
