"""Quality pages: the review queue and screen, "my work", the dashboard and its actions. Thin:
each view checks access with ``project_for`` (404 for anything not theirs), calls one selector
or service, and renders."""

import json
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_POST

from annotation.editors import editor_context_for_task
from annotation.models import Annotation, ProjectContributor, Task
from labelhub.content import content_display
from labelhub.permissions import can_manage, project_for
from quality import charts, events, selectors, services
from quality.models import ReviewReason
from quality.position import position_report
from quality.standing import RATE_MIN_SECONDS

STATUS_LABELS = {
    "open": "Open",
    "annotated": "Annotated",
    "consolidated": "Consolidated",
    "in_review": "In review",
    "accepted": "Accepted",
}


QUEUE_PAGE = 50


@require_GET
@login_required
def review_queue(request: HttpRequest, project_id: int) -> HttpResponse:
    """The tasks waiting for review, filtered (why, whose answer) and sorted; the filters go
    along to "Review the next task" and stay on through the verdicts that follow."""
    project = project_for(user=request.user, project_id=project_id, action="review")
    filters = selectors.ReviewFilters.from_query(request.GET)
    items = selectors.review_queue(
        project=project, reviewer=request.user, filters=filters, limit=QUEUE_PAGE
    )
    context = {
        "project": project,
        "items": items,
        "filters": filters,
        "query": filters.as_query(),
        "matching": len(items)
        if len(items) < QUEUE_PAGE
        else selectors.review_queue_count(project=project, reviewer=request.user, filters=filters),
        "people": selectors.review_queue_people(project=project),
        "reasons": ReviewReason.choices,
        "sorts": list(selectors.REVIEW_SORTS.items()),
        "manages": can_manage(user=request.user, project=project),
    }
    return render(request, "quality/review_queue.html", context)


def _with_query(url: str, query: str) -> str:
    return f"{url}?{query}" if query else url


def _queue_query(request: HttpRequest) -> str:
    """The review queue's filters a review page was opened with (its URL's query; the verdict
    form carries them in ``queue``), checked again, as a query string."""
    given = QueryDict(request.POST.get("queue", "")) if request.method == "POST" else request.GET
    return selectors.ReviewFilters.from_query(given).as_query()


@require_GET
@login_required
def review_next(request: HttpRequest, project_id: int) -> HttpResponse:
    project = project_for(user=request.user, project_id=project_id, action="review")
    filters = selectors.ReviewFilters.from_query(request.GET)
    task = selectors.review_next(project=project, reviewer=request.user, filters=filters)
    query = filters.as_query()
    if task is None:
        messages.info(
            request,
            "Nothing that matches the filters is waiting for review."
            if filters.active
            else "Nothing is waiting for review.",
        )
        return redirect(_with_query(reverse("quality:review-queue", args=[project.pk]), query))
    return redirect(_with_query(reverse("quality:review", args=[project.pk, task.pk]), query))


FIELD_ERRORS = ("comment", "annotations")  # shown next to their field; others above the form


def _review_page(request, project, task_id: int, *, errors: dict | None = None, status: int = 200):
    """The review screen; after a refused verdict, with each error next to its field and what
    the reviewer had typed and marked kept."""
    try:
        item = selectors.review_item(project=project, task_id=task_id, reviewer=request.user)
    except Task.DoesNotExist:
        raise Http404("No such task in review.") from None
    editor = editor_context_for_task(
        task=item.task, project=project, initial_result=item.outcome.proposal
    )
    errors = errors or {}
    context = editor.as_template_context(task=item.task, project=project)
    # Reviewers are protected like contributors: a sensitive task is blurred until revealed.
    context.update(content_display(project=project, task=item.task))
    context.update(
        item=item,
        query=_queue_query(request),
        field_errors={key: errors[key] for key in FIELD_ERRORS if key in errors},
        error="; ".join(m for key, ms in errors.items() if key not in FIELD_ERRORS for m in ms),
        comment=request.POST.get("comment", ""),
        marked={int(v) for v in request.POST.getlist("annotation") if v.isdigit()},
        comment_limit=services.COMMENT_LIMIT,
    )
    return render(request, "quality/review.html", context, status=status)


def _verdict_done(*, task_id: int, verdict: str, recorded: services.ReviewRecorded) -> str:
    """What happened, in words, once (the page after the redirect shows it)."""
    if verdict == "accept":
        return f"Task {task_id}: the answer is accepted."
    if verdict == "fix":
        return f"Task {task_id}: your fix is the accepted answer."
    n = recorded.review.judgements.count()
    what = f"{n} answer{'s' if n != 1 else ''} rejected"
    if recorded.sent_back:
        goes = "it goes" if len(recorded.sent_back) == 1 else "they go"
        return f"Task {task_id}: {what}; {goes} back to the author to correct."
    return f"Task {task_id}: {what}; other contributors will answer it."


@require_GET
@login_required
def review(request: HttpRequest, project_id: int, task_id: int) -> HttpResponse:
    """The task in its kind's editor with the proposal loaded, the answers beside it."""
    project = project_for(user=request.user, project_id=project_id, action="review")
    return _review_page(request, project, task_id)


@require_POST
@login_required
def review_verdict(request: HttpRequest, project_id: int, task_id: int) -> HttpResponse:
    project = project_for(user=request.user, project_id=project_id, action="review")
    verdict = request.POST.get("verdict", "")
    result = None
    if verdict == "fix":
        try:
            result = json.loads(request.POST.get("result", ""))
        except (ValueError, RecursionError):
            errors = {"result": ["The fix is not valid JSON."]}
            return _review_page(request, project, task_id, errors=errors, status=422)
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        version = -1
    reject_ids = [int(v) for v in request.POST.getlist("annotation") if v.isdigit()]
    query = _queue_query(request)
    try:
        recorded = services.review_record(
            task_id=task_id,
            project=project,
            reviewer=request.user,
            verdict=verdict,
            version=version,
            result=result,
            comment=request.POST.get("comment", ""),
            # With several answers the page asks which are wrong: none marked is refused.
            reject_annotation_ids=reject_ids if request.POST.get("marks") else None,
        )
    except Task.DoesNotExist:
        raise Http404("No such task.") from None
    except ValidationError as error:
        return _review_page(request, project, task_id, errors=error.message_dict, status=422)
    except services.ReviewConflict as conflict:
        messages.error(request, conflict.message)
        return redirect(_with_query(reverse("quality:review-queue", args=[project.pk]), query))
    messages.success(request, _verdict_done(task_id=task_id, verdict=verdict, recorded=recorded))
    return redirect(_with_query(reverse("quality:review-next", args=[project.pk]), query))


@require_POST
@login_required
def task_flag(request: HttpRequest, project_id: int, task_id: int) -> HttpResponse:
    project = project_for(user=request.user, project_id=project_id, action="manage")
    try:
        services.task_flag_for_review(
            task_id=task_id, project=project, actor=request.user, note=request.POST.get("note", "")
        )
    except Task.DoesNotExist:
        raise Http404("No such task.") from None
    except services.ReviewRefusal as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, f"Task {task_id} is flagged for review.")
    return redirect(request.POST.get("next") or reverse("quality:dashboard", args=[project.pk]))


@require_GET
@login_required
def my_work(request: HttpRequest, project_id: int) -> HttpResponse:
    project = project_for(user=request.user, project_id=project_id, action="label")
    items = selectors.my_work(project=project, user=request.user)
    rows = events.my_work_row_parts(project=project, user=request.user, annotations=items)
    for annotation in items:
        annotation.latest = annotation.judgements[0] if annotation.judgements else None
        annotation.correct_now = selectors.waiting_for_correction(annotation, annotation.latest)
        annotation.parts = rows.get(annotation.pk, [])
    context = {
        "project": project,
        "items": items,
        "summary": selectors.my_work_summary(project=project, user=request.user),
        # Other apps' blocks (earnings, appeals), drawn by their own templates.
        "parts": events.my_work_summary_parts(project=project, user=request.user),
    }
    return render(request, "quality/my_work.html", context)


@require_GET
@login_required
def my_answer(request: HttpRequest, project_id: int, annotation_id: int) -> HttpResponse:
    """One of the person's own answers beside the accepted one and the reviewer's comment."""
    project = project_for(user=request.user, project_id=project_id, action="label")
    try:
        item = selectors.my_answer(project=project, user=request.user, annotation_id=annotation_id)
    except Annotation.DoesNotExist:
        raise Http404("No such answer of yours.") from None
    return render(
        request, "quality/my_answer.html", {"project": project, "item": item, "task": item.task}
    )


@require_GET
@login_required
def dashboard(request: HttpRequest, project_id: int) -> HttpResponse:
    project = project_for(user=request.user, project_id=project_id, action="manage")
    sort = request.GET.get("sort", "name")
    board = selectors.quality_dashboard(project=project, sort=sort)
    labels = [STATUS_LABELS[s] for s in board.progress]
    tasks_url = reverse("annotation:task-list", args=[project.pk])
    audit_url = reverse("projects:audit", args=[project.pk])

    def tasks(**filters) -> str:
        return f"{tasks_url}?{urlencode(filters)}"

    def agreement_bin(i: int) -> str:
        # floor(agreement × 10) = i; the task list's range is inclusive, so stop just short
        # of the next tenth (the last one takes 1.0 itself).
        top = "1" if i == 9 else f"{(i + 1) / 10 - 0.00001:.5f}"
        return tasks(agreement_min=f"{i / 10:.1f}", agreement_max=top)

    context = {
        "project": project,
        "board": board,
        "sort": sort,
        "tasks_url": tasks_url,
        "rate_minutes": RATE_MIN_SECONDS // 60,
        "pause_limit": services.PAUSE_REASON_LIMIT,
        "progress_chart": charts.bar_chart(
            values=list(board.progress.values()),
            labels=labels,
            title="Tasks by status",
            testid="chart-progress",
            x_title="Status",
            y_title="Tasks (not gold)",
            links=[tasks(status=s, gold="no") for s in board.progress],
            empty="No tasks yet",
        ),
        "agreement_chart": charts.bar_chart(
            values=board.agreement_bins,
            labels=[f"{i / 10:.1f}" for i in range(10)],
            title="Agreement distribution (tasks per tenth)",
            testid="chart-agreement",
            x_title="Agreement among a task's answers (from)",
            y_title="Tasks",
            links=[agreement_bin(i) for i in range(10)],
            empty="Not enough data yet: no task has two answers",
        ),
        "agreement_time_chart": charts.line_chart(
            points=[(day.isoformat(), mean) for day, mean, _ in board.agreement_by_day],
            title="Mean agreement per day",
            testid="chart-agreement-time",
            x_title="Day",
            y_title="Mean agreement",
            empty="Not enough data yet: agreement on two days or more",
        ),
        "accuracy_chart": charts.scatter(
            points=[
                (s.submitted, s.gold_accuracy, s.name)
                for s in board.standings
                if s.gold_accuracy is not None
            ],
            title="Gold accuracy against volume",
            testid="chart-accuracy",
            x_title="Tasks submitted",
            y_title="Gold accuracy",
            links=[
                tasks(contributor=s.pc.user.get_username(), gold="yes")
                for s in board.standings
                if s.gold_accuracy is not None
            ],
            empty="Not enough data yet: nobody has answered a gold task",
        ),
        "review_chart": charts.bar_chart(
            values=list(board.review_outcomes.values()),
            labels=["Accepted", "Fixed", "Rejected"],
            title="Review outcomes",
            testid="chart-reviews",
            classes=["ok", "warn", "bad"],
            x_title="Verdict",
            y_title="Reviews",
            links=[f"{audit_url}?{urlencode({'action': 'review.recorded'})}"] * 3,
            empty="No reviews yet",
        ),
        "columns": [
            ("name", "Contributor"),
            ("accuracy", "Gold accuracy"),
            ("agreement", "Agreement"),
            ("acceptance", "Review acceptance"),
            ("submitted", "Submitted"),
            ("per_hour", "Per hour"),
            ("active", "Active time"),
            ("status", "Status"),
        ],
    }
    context["position"] = position_report(project=project)
    context["panels"] = list(
        events.dashboard_panels.collect(request=request, project=project).values()
    )
    template = "quality/dashboard.html"
    if getattr(request, "htmx", False):
        template += "#contributor-table"
    response = render(request, template, context)
    # The same URL answers the whole page or (to htmx's sort) the table alone: a browser going
    # back to a sorted URL must not take the table from its cache for the page.
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_POST
@login_required
def contributor_pause(request: HttpRequest, project_id: int, user_id: int) -> HttpResponse:
    project = project_for(user=request.user, project_id=project_id, action="manage")
    try:
        services.contributor_pause(
            project=project,
            user_id=user_id,
            actor=request.user,
            reason=request.POST.get("reason", ""),
        )
    except ProjectContributor.DoesNotExist:
        raise Http404("No such contributor.") from None
    except ValidationError as error:
        messages.error(request, f"Not paused: the reason is too long. {error.messages[0]}")
    return redirect("quality:dashboard", project_id=project.pk)


@require_POST
@login_required
def contributor_resume(request: HttpRequest, project_id: int, user_id: int) -> HttpResponse:
    project = project_for(user=request.user, project_id=project_id, action="manage")
    try:
        services.contributor_resume(project=project, user_id=user_id, actor=request.user)
    except ProjectContributor.DoesNotExist:
        raise Http404("No such contributor.") from None
    return redirect("quality:dashboard", project_id=project.pk)
