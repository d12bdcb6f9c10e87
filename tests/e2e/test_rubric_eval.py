"""Rubric evals in a real Chromium: writing a rubric, grading responses with the keyboard (timed),
a judge's calibration page and the leaderboard."""

import time

import orjson
import pytest
from django.test import override_settings
from playwright.sync_api import Page, expect

from annotation import queue
from annotation.models import Annotation, Task
from annotation.services import task_create
from evals import judging, services
from evals.models import JudgeGrade, Response
from kinds.rubric_eval import formats
from labelhub.models import Role
from tests.e2e.test_work_screen import log_in, mounted
from tests.evals.eval_server import bad_answer, eval_prompts, good_answer, judge_reply, truth
from tests.factories import make_project, make_user

pytestmark = pytest.mark.django_db(transaction=True)
PROMPT = [{"role": "user", "content": "My child has a fever of 39.5 C. What should I do?"}]


def test_an_expert_writes_a_rubric(live_server, page: Page, console_errors):
    writer = make_user("wren")
    project = make_project(
        kind="rubric_eval",
        schema={"mode": "write", "tags": ["axis:accuracy", "theme:emergency"]},
        members={writer: Role.CONTRIBUTOR},
        quality={"overlap": 1},
    )
    task_create(project=project, data={"prompt": PROMPT, "samples": ["Rest and fluids."]})
    log_in(page, live_server, "wren")
    page.goto(f"{live_server.url}/projects/{project.pk}/label/")
    page.get_by_test_id("start").click()
    mounted(page)
    expect(page.get_by_test_id("re-prompt")).to_contain_text("fever of 39.5 C")
    rows = page.get_by_test_id("rubric-row")
    rows.nth(0).get_by_label("Criterion", exact=True).fill("Advises fluids and rest")
    rows.nth(0).get_by_label("Tags").fill("axis:completeness")
    page.keyboard.press("Alt+n")  # a new row, focused
    page.keyboard.type("Recommends aspirin for a child")
    rows.nth(1).get_by_label("Points").fill("-8")
    rows.nth(1).get_by_label("Tags").fill("axis:accuracy, theme:emergency")
    expect(page.get_by_test_id("re-tally")).to_have_text("2 criteria · 5 points to earn")
    page.keyboard.press("Control+Enter")
    expect(page.get_by_test_id("no-more-tasks")).to_be_visible()
    result = Annotation.objects.get(contributor=writer).result
    assert result == {
        "rubric": [
            {"id": "c1", "criterion": "Advises fluids and rest", "points": 5,
             "tags": ["axis:completeness"]},
            {"id": "c2", "criterion": "Recommends aspirin for a child", "points": -8,
             "tags": ["axis:accuracy", "theme:emergency"]},
        ]
    }  # fmt: skip
    assert console_errors == []


def test_a_new_criterion_never_takes_the_id_of_one_kept_from_the_draft(
    live_server, page: Page, console_errors
):
    writer = make_user("wade")
    project = make_project(
        kind="rubric_eval", schema={"mode": "write"}, members={writer: Role.CONTRIBUTOR},
        quality={"overlap": 1},
    )  # fmt: skip
    draft = [
        {"id": "c1", "criterion": "Asks the child's age", "points": 3, "tags": []},
        {"id": "c2", "criterion": "Advises fluids", "points": 4, "tags": []},
    ]
    task_create(project=project, data={"prompt": PROMPT, "rubric": draft})
    log_in(page, live_server, "wade")
    page.goto(f"{live_server.url}/projects/{project.pk}/label/")
    page.get_by_test_id("start").click()
    mounted(page)
    rows = page.get_by_test_id("rubric-row")
    rows.nth(0).get_by_role("button", name="Remove this criterion").click()
    page.keyboard.press("Alt+n")  # a new row, the second: it used to be given "c2" again
    page.keyboard.type("Says when to call a doctor")
    page.keyboard.press("Control+Enter")
    expect(page.get_by_test_id("no-more-tasks")).to_be_visible()
    result = Annotation.objects.get(contributor=writer).result
    assert [(c["id"], c["criterion"]) for c in result["rubric"]] == [
        ("c2", "Advises fluids"),
        ("c1", "Says when to call a doctor"),
    ]
    assert console_errors == []


def grade_tasks(project, count: int) -> list[Task]:
    services.items_import(
        project=project,
        prompts=formats.healthbench_read([orjson.dumps(r) for r in eval_prompts(count)]),
    )
    services.responses_import(
        project=project,
        rows=[{"task": f"q{i}", "model": "good", "response": good_answer(i)} for i in range(count)],
    )
    services.responses_send_to_people(project=project, count=count)
    return list(Task.objects.filter(project=project).order_by("pk"))


def test_a_grader_grades_responses_with_the_keyboard(live_server, page: Page, console_errors):
    grader = make_user("gus")
    project = make_project(
        kind="rubric_eval", members={grader: Role.CONTRIBUTOR}, quality={"overlap": 1}
    )
    count = 12
    tasks = grade_tasks(project, count)
    log_in(page, live_server, "gus")
    page.goto(f"{live_server.url}/projects/{project.pk}/label/")
    page.get_by_test_id("start").click()
    mounted(page)

    # The first response: keys, a quote as evidence, and Alt+N for the rest.
    expect(page.get_by_test_id("criterion")).to_have_count(4)
    page.keyboard.press("1")  # met
    page.keyboard.press("3")
    page.keyboard.press("3")  # met, then not met
    page.evaluate(
        """() => {
          const body = document.querySelector('.re-response-body');
          const node = [...body.querySelectorAll('*'), body].flatMap((e) => [...e.childNodes])
            .find((n) => n.nodeType === 3 && n.textContent.includes('fact'));
          const at = node.textContent.indexOf('fact');
          const range = document.createRange();
          range.setStart(node, at);
          range.setEnd(node, at + 5);
          const selection = window.getSelection();
          selection.removeAllRanges();
          selection.addRange(range);
        }"""
    )
    page.keyboard.press("1")
    page.keyboard.press("1")  # c1 met again (the last one marked)
    page.keyboard.press("Alt+e")
    expect(page.get_by_test_id("evidence").first).to_have_text("fact0")
    page.keyboard.press("Alt+n")
    expect(page.get_by_test_id("re-tally")).to_contain_text("4 of 4 graded")
    first = page.evaluate("window.labelhubEditor.getResult()")
    c1, c2, c3, c4 = (c["id"] for c in tasks[0].data["rubric"])  # stable ids, by position
    assert first == {
        "verdicts": {
            c1: {"met": True, "evidence": "fact0"},
            c3: {"met": False},
            c2: {"met": False},
            c4: {"met": False},
        }
    }
    page.keyboard.press("Control+Enter")
    expect(page.get_by_test_id("notice")).to_have_text("Submitted.")

    # The rest, timed: a grader who knows the answers, at keyboard speed.
    started = time.monotonic()
    for n in range(1, count):
        mounted(page)
        expect(page.get_by_test_id("re-tally")).to_contain_text("0 of 4 graded")
        response_text = page.get_by_test_id("re-response").inner_text()
        for index, criterion in enumerate(page.get_by_test_id("criterion").all()):
            word = criterion.locator(".re-text").inner_text().split()[1]
            if word in response_text:
                page.keyboard.press(str(index + 1))
        page.keyboard.press("Alt+n")
        page.keyboard.press("Control+Enter")
        if n < count - 1:
            expect(page.get_by_test_id("re-tally")).to_contain_text("0 of 4 graded")
    expect(page.get_by_test_id("no-more-tasks")).to_be_visible()
    elapsed = time.monotonic() - started
    print(f"\nFIGURE grading: {count - 1} responses in {elapsed:.1f} s = "
          f"{(count - 1) / elapsed * 60:.0f} responses per minute")  # fmt: skip
    answers = {a.task_id: a.result for a in Annotation.objects.filter(contributor=grader)}
    assert len(answers) == count
    for task in tasks[1:]:
        expected = {c: {"met": v["met"]} for c, v in truth(task.data)["verdicts"].items()}
        assert answers[task.pk]["verdicts"] == expected
    assert console_errors == []


@override_settings(LIVE_MODEL_ALLOW_PRIVATE_ADDRESSES=True)
def test_the_calibration_page_and_the_leaderboard(live_server, page: Page, console_errors):
    manager, expert = make_user("mara"), make_user("eli")
    project = make_project(
        kind="rubric_eval",
        members={manager: Role.MANAGER, expert: Role.CONTRIBUTOR},
        quality={"overlap": 1},
    )
    prompts = 12
    services.items_import(
        project=project,
        prompts=formats.healthbench_read([orjson.dumps(r) for r in eval_prompts(prompts)]),
    )
    rows = []
    for i in range(prompts):
        rows += [
            {"task": f"q{i}", "model": "good", "version": "2026-05", "response": good_answer(i)},
            {"task": f"q{i}", "model": "bad", "version": "2026-05", "response": bad_answer(i)},
        ]
    services.responses_import(project=project, rows=rows)
    services.responses_send_to_people(project=project, count=2 * prompts)
    while assignment := queue.assignment_claim_next(project=project, contributor=expert):
        task = Task.objects.get(pk=assignment.task_id)
        queue.annotation_submit(
            assignment_id=assignment.pk, contributor=expert, result=truth(task.data)
        )
    judge = services.judge_save(
        project=project,
        actor=manager,
        values={"name": "grader", "base_url": "http://127.0.0.1:9/v1", "model": "judge"},
    )
    version = services.judge_current_version(judge=judge)
    for response in Response.objects.select_related("item"):
        text = judging.render(
            version.template,
            prompt=response.item.prompt,
            rubric=response.item.rubric,
            response=response.text,
        )
        verdicts = judging.parse(
            judge_reply(text), rubric=response.item.rubric, response=response.text
        )
        JudgeGrade.objects.create(response=response, judge_version=version, verdicts=verdicts)

    log_in(page, live_server, "mara")
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    page.get_by_test_id("nav-evals").click()
    expect(page.get_by_test_id("set-summary")).to_contain_text("12 prompts · 24 responses")
    page.get_by_role("link", name="Judges & calibration").click()
    expect(page.get_by_test_id("no-calibration")).to_be_visible()
    page.get_by_test_id("judge-calibrate").click()
    expect(page.get_by_test_id("calibration-summary")).to_contain_text(
        "Grades alone: axis:accuracy"
    )
    expect(page.get_by_test_id("worst-tag")).to_have_text("axis:communication")
    accuracy = page.locator("[data-testid=calibration-row][data-tag='axis:accuracy']")
    communication = page.locator("[data-testid=calibration-row][data-tag='axis:communication']")
    expect(accuracy.get_by_test_id("passes")).to_have_text("yes")
    expect(accuracy).to_contain_text("1.000 (1.000–1.000)")
    expect(communication.get_by_test_id("passes")).to_have_text("no")
    theme = page.locator("[data-testid=theme-row][data-theme='theme:test']")
    expect(theme.get_by_test_id("passes")).to_have_text("yes")  # on the accuracy criteria
    expect(page.get_by_test_id("interval-bar")).to_have_count(4)  # overall, 2 tags, 1 theme

    page.get_by_role("link", name="Leaderboard").click()
    leader = page.get_by_test_id("leaderboard-row")
    expect(leader).to_have_count(2)
    expect(leader.nth(0)).to_have_attribute("data-model", "good 2026-05")
    expect(leader.nth(0)).to_contain_text("12 of 12")
    expect(page.get_by_test_id("pair-verdict")).to_have_text("good 2026-05 is better")
    expect(page.get_by_test_id("tag-table")).to_contain_text("axis:communication")
    assert console_errors == []
