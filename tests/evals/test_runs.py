"""Eval runs are robust: a run whose worker died resumes (what it stored is kept, the rest is
asked), a run can be cancelled from the page and the API, and runs have a queue of their own so
that judging and webhooks never wait behind hours of model calls."""

import io
from datetime import timedelta

import orjson
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from annotation.webhooks import LINE_PRIORITY
from evals import services
from evals.models import EvalRun, Response, RunStatus
from evals.tasks import EVALS_QUEUE, eval_run_process
from genai.client import Completion
from kinds.rubric_eval import formats
from labelhub.models import Role
from quality.tasks import judge_project
from tests.evals.eval_server import EvalServer, eval_prompts, good_answer
from tests.factories import make_project, make_user

PROMPTS = 10


def eval_set(base_url: str):
    manager = make_user("manager")
    project = make_project(kind="rubric_eval", members={manager: Role.MANAGER})
    services.items_import(
        project=project,
        prompts=formats.healthbench_read([orjson.dumps(r) for r in eval_prompts(PROMPTS)]),
    )
    with override_settings(LIVE_MODEL_ALLOW_PRIVATE_ADDRESSES=True):
        model = services.eval_model_save(
            project=project,
            values={"name": "good", "base_url": base_url, "model": "good", "concurrency": 1,
                    "max_retries": 0, "timeout_seconds": 5},
        )  # fmt: skip
    return project, manager, model


class WorkerDies(BaseException):
    """What a killed worker looks like from inside: nothing after it runs."""


def dies_after(answers: int):
    calls = []

    def send(request):
        calls.append(request)
        if len(calls) > answers:
            raise WorkerDies
        i = int(request.messages[-1]["content"].split("topic ")[1].rstrip("."))
        return Completion(text=good_answer(i), prompt_tokens=10, completion_tokens=5)

    return send


@pytest.mark.django_db
@override_settings(LIVE_MODEL_ALLOW_PRIVATE_ADDRESSES=True)
def test_a_run_whose_worker_died_resumes_and_asks_only_what_is_missing(
    django_capture_on_commit_callbacks,
):
    with EvalServer() as server:
        project, manager, model = eval_set(server.base_url)
        with django_capture_on_commit_callbacks(execute=False):
            run = services.run_create(project=project, actor=manager, eval_models=[model])
        with pytest.raises(WorkerDies):
            services.run_execute(run_id=run.pk, send=dies_after(4))
        run.refresh_from_db()
        assert run.status == RunStatus.RUNNING
        assert Response.objects.filter(run=run).count() == 4

        # The task queued again at once (a lost connection): the lease still holds, so it
        # leaves the run to the worker that may still have it.
        assert eval_run_process.enqueue(run.pk).return_value == RunStatus.RUNNING
        assert server.calls == []
        assert services.runs_abandoned() == []

        # The lease runs out: the housekeeping command queues it again, and it resumes.
        lease = services.run_lease(run)
        assert lease == timedelta(seconds=5) + services.LEASE_SLACK
        EvalRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - lease * 2)
        assert services.runs_abandoned() == [run.pk]
        out = io.StringIO()
        call_command("resume_eval_runs", stdout=out)
        assert out.getvalue().strip() == "Queued 1 eval runs again."
    run.refresh_from_db()
    assert run.status == RunStatus.DONE
    assert server.calls == ["good"] * (PROMPTS - 4)  # only the prompts not answered yet
    assert (run.done, run.failed, run.total) == (PROMPTS, 0, PROMPTS)
    assert Response.objects.filter(project=project).count() == PROMPTS
    assert services.runs_abandoned() == []


@pytest.mark.django_db(transaction=True)  # the cancel comes from another connection
def test_a_run_cancelled_while_it_works_starts_no_more_calls(monkeypatch):
    monkeypatch.setattr(services, "HEARTBEAT_SECONDS", 0.0)  # look for a cancel after each result
    project, manager, model = eval_set("http://127.0.0.1:9/v1")
    run = EvalRun.objects.create(project=project, created_by=manager)
    run.eval_models.set([model])
    asked = []

    def send(request):
        asked.append(request)
        if len(asked) == 3:
            services.run_cancel(run=EvalRun.objects.get(pk=run.pk))
            connection.close()
        return Completion(text="An answer.", prompt_tokens=10, completion_tokens=5)

    services.run_execute(run_id=run.pk, send=send)
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED
    assert len(asked) < PROMPTS
    stored = Response.objects.filter(run=run).count()
    assert 3 <= stored < PROMPTS
    assert run.done == stored
    assert services.run_execute(run_id=run.pk, send=send).status == RunStatus.CANCELLED


@pytest.mark.django_db
def test_a_queued_run_is_cancelled_on_the_page_and_by_the_api(client):
    project, manager, model = eval_set("http://127.0.0.1:9/v1")
    runs = []
    for _ in range(2):
        run = EvalRun.objects.create(project=project, created_by=manager)
        run.eval_models.set([model])
        runs.append(run)
    client.force_login(manager)
    home = client.get(reverse("evals:home", args=[project.pk])).content.decode()
    assert home.count('data-testid="run-cancel"') == 2
    page = client.post(reverse("evals:run-cancel", args=[project.pk, runs[0].pk]))
    assert page.status_code == 302
    runs[0].refresh_from_db()
    assert runs[0].status == RunStatus.CANCELLED

    api = APIClient()
    api.force_authenticate(manager)
    url = f"/api/v1/projects/{project.pk}/evals/runs/{runs[1].pk}/cancel/"
    answer = api.post(url)
    assert answer.status_code == 200
    assert answer.json()["status"] == "cancelled"
    again = api.post(url)
    assert again.status_code == 409
    assert again.json() == {"detail": f"Run {runs[1].pk} is over already.", "code": "run_over"}
    assert services.run_execute(run_id=runs[1].pk).status == RunStatus.CANCELLED


def test_runs_have_their_own_queue_and_judging_keeps_its_priority():
    assert eval_run_process.queue_name == EVALS_QUEUE == "evals"
    assert EVALS_QUEUE in settings.TASKS["default"]["QUEUES"]
    assert judge_project.queue_name == "default"
    assert judge_project.priority == LINE_PRIORITY
