"""Helpers of the eval tests: load HealthBench-shaped prompts with two models' responses, grade
every task as an expert would, have the loopback judge's rule grade responses."""

import orjson

from annotation import queue
from annotation.models import Task
from evals import judging, services
from evals.models import JudgeGrade, Response
from evals.selectors import leaderboard
from kinds.rubric_eval import formats
from tests.evals.eval_server import bad_answer, good_answer, judge_reply, truth


def grade_all(capture, project, person) -> int:
    graded = 0
    while True:
        with capture(execute=True):
            assignment = queue.assignment_claim_next(project=project, contributor=person)
            if assignment is None:
                return graded
            task = Task.objects.get(pk=assignment.task_id)
            queue.annotation_submit(
                assignment_id=assignment.pk, contributor=person, result=truth(task.data)
            )
        graded += 1


def load(project, rows: list[dict]) -> None:
    services.items_import(
        project=project, prompts=formats.healthbench_read([orjson.dumps(r) for r in rows])
    )
    services.responses_import(
        project=project,
        rows=[
            {
                "task": row["prompt_id"],
                "model": model,
                "response": answer(int(row["prompt_id"][1:])),
            }
            for row in rows
            for model, answer in (("good", good_answer), ("bad", bad_answer))
        ],
    )


def accuracy_only(rows: list[dict]) -> list[dict]:
    for row in rows:
        row["rubrics"] = [c for c in row["rubrics"] if "axis:accuracy" in c["tags"]]
    return rows


def judge_grades(version, responses) -> None:
    for response in responses:
        text = judging.render(
            version.template,
            prompt=response.item.prompt,
            rubric=response.item.rubric,
            response=response.text,
        )
        JudgeGrade.objects.update_or_create(
            response=response,
            judge_version=version,
            defaults={
                "verdicts": judging.parse(
                    judge_reply(text), rubric=response.item.rubric, response=response.text
                )
            },
        )


def held(response: Response) -> set[str]:
    return {cid for part in response.people_tasks.all() for cid in part.criteria}


def scored(project) -> dict[str, int]:
    return {m["model"]: m["scored"] for m in leaderboard(project=project)["models"]}
