"""The conversation kind: schema, data and result validation with their error paths, the rubric
builder on the settings page, the queue's consensus and the review screen."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

import kinds
from annotation import queue
from annotation.models import TaskStatus
from labelhub.models import Role
from tests.factories import make_project, make_task, make_user

KIND = kinds.get("conversation")
SCHEMA = KIND.clean_schema(
    {
        "modes": ["rate", "rewrite"],
        "criteria": [
            {"name": "accuracy", "scale": 5, "per": "turn"},
            {"name": "overall", "scale": 3, "per": "conversation"},
        ],
        "error_types": [{"name": "factual error", "severity": "major"}],
        "rationale": "optional",
    }
)
CHAT = {
    "messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Capital of Australia?"},
        {"role": "assistant", "content": "Sydney.", "model": "m-1"},
        {"role": "user", "content": "Sure?"},
        {"role": "assistant", "content": "Yes, Sydney is the capital.", "model": "m-1"},
    ]
}


def errors_of(call) -> dict:
    with pytest.raises(ValidationError) as caught:
        call()
    return caught.value.message_dict


def clean(result, *, schema=SCHEMA, data=CHAT):
    return KIND.clean_result(result, schema=schema, data=data)


def good_result(**extra):
    return {
        "turns": [
            {"index": 2, "scores": {"accuracy": 1}, "spans": [{"start": 0, "end": 6,
             "type": "factual error", "note": "Canberra"}], "rewrite": "Canberra."},
            {"index": 4, "scores": {"accuracy": 1}},
        ],
        "scores": {"overall": 1},
        **extra,
    }  # fmt: skip


def test_the_default_schema_is_clean_and_filled_in():
    schema = KIND.clean_schema(KIND.default_schema())
    assert schema["modes"] == ["rate", "rewrite"]
    assert schema["criteria"][0]["labels"][0] == "wrong or harmful"
    assert KIND.clean_schema({"criteria": [{"name": "tone", "scale": 3}]})["criteria"] == [
        {"name": "tone", "scale": 3, "per": "turn", "labels": ["", "", ""]}
    ]


@pytest.mark.parametrize(
    ("schema", "path", "words"),
    [
        ({"modes": []}, "modes", "one or more modes"),
        ({"modes": ["rate", "grade"]}, "modes", "one or more modes"),
        ({"modes": ["rate"], "criteria": []}, "criteria", "needs a criterion"),
        ({"criteria": [{"name": "a", "scale": 12}]}, "criteria.0.scale", "2 to 9 points"),
        ({"criteria": [{"name": "a"}, {"name": "A"}]}, "criteria.1.name", "given twice"),
        ({"criteria": [{"name": "a.b"}]}, "criteria.0.name", "no dot"),
        ({"criteria": [{"name": "a", "per": "day"}]}, "criteria.0.per", "'turn' or"),
        ({"criteria": [{"name": "a", "scale": 3, "labels": ["x"]}]}, "criteria.0.labels", "each"),
        ({"criteria": [{"name": "a"}], "error_types": [{"name": "x", "severity": "odd"}]},
         "error_types.0.severity", "minor, major, critical"),
        ({"criteria": [{"name": "a"}], "write": "poem"}, "write", "'reply'"),
        ({"criteria": [{"name": "a"}], "colour": 1}, "colour", "Unknown setting"),
    ],
)  # fmt: skip
def test_schema_errors_name_their_path(schema, path, words):
    errors = errors_of(lambda: KIND.clean_schema(schema))
    assert words in " ".join(errors[path])


@pytest.mark.parametrize(
    ("data", "path", "words"),
    [
        ({"messages": "hi"}, "data.messages", "a list"),
        ({"messages": [{"role": "tool", "content": "x"}]}, "data.messages.0.role", "one of"),
        ({"messages": [{"role": "user", "content": 3}]}, "data.messages.0.content", "text"),
        ({"messages": [{"role": "assistant", "content": "x", "judge": "yes"}]},
         "data.messages.0.judge", "true or false"),
        ({"messages": [{"role": "user", "content": "hi"}]}, "data.messages", "Nothing to do"),
        ({**CHAT, "candidates": [{"id": "a", "content": "x"}]}, "data.candidates", "compare"),
        ({**CHAT, "image": "x.png"}, "data.image", "Not part"),
    ],
)  # fmt: skip
def test_data_errors_name_their_path(data, path, words):
    errors = errors_of(lambda: KIND.clean_data(data, schema=SCHEMA))
    assert words in " ".join(errors[path])


def test_turns_to_judge_are_the_marked_assistant_turns_else_all():
    marked = {"messages": [*CHAT["messages"][:2], {**CHAT["messages"][2], "judge": True},
                           *CHAT["messages"][3:]]}  # fmt: skip
    assert KIND.clean_data(marked, schema=SCHEMA) == marked
    errors = errors_of(lambda: clean({"turns": [{"index": 4, "scores": {"accuracy": 2}}]},
                                     data=marked))  # fmt: skip
    assert errors["result.turns.0.index"] == ["Not a turn to judge in this conversation."]


def test_a_good_answer_is_cleaned_and_sorted():
    result = good_result()
    result["turns"].reverse()
    cleaned = clean(result)
    assert [t["index"] for t in cleaned["turns"]] == [2, 4]
    assert cleaned["turns"][0]["rewrite"] == "Canberra."
    assert cleaned["turns"][1] == {"index": 4, "scores": {"accuracy": 1}, "spans": []}
    assert cleaned["scores"] == {"overall": 1}
    assert cleaned["rationale"] == ""


@pytest.mark.parametrize(
    ("change", "path", "words"),
    [
        (lambda r: r["turns"][0]["spans"].append({"start": 3, "end": 99, "type": "factual error"}),
         "result.turns.0.spans.1.end", "at most at 7"),
        (lambda r: r["turns"][0]["spans"].append({"start": -1, "end": 2, "type": "factual error"}),
         "result.turns.0.spans.1.start", "starts in the turn"),
        (lambda r: r["turns"][0]["spans"].append({"start": 1, "end": 2, "type": "typo"}),
         "result.turns.0.spans.1.type", "Choose an error type"),
        (lambda r: r["turns"][0]["spans"].append(dict(r["turns"][0]["spans"][0])),
         "result.turns.0.spans.1", "marked twice"),
        (lambda r: r["turns"][1]["scores"].update(accuracy=6), "result.turns.1.scores.accuracy",
         "1 to 5"),
        (lambda r: r["turns"][1]["scores"].pop("accuracy"), "result.turns.1.scores.accuracy",
         "Score 'accuracy'"),
        (lambda r: r["turns"][1]["scores"].update(tone=2), "result.turns.1.scores.tone",
         "Not a criterion"),
        (lambda r: r["turns"].pop(), "result.turns", "not yet: 4"),
        (lambda r: r["turns"][0].update(rewrite="Sydney."), "result.turns.0.rewrite",
         "same as the original"),
        (lambda r: r["turns"][1].update(index=2), "result.turns.1.index", "answered twice"),
        (lambda r: r.update(scores={}), "result.scores.overall", "Score 'overall'"),
        (lambda r: r.update(order=["a"]), "result.order", "no candidates"),
        (lambda r: r.update(written=[{"role": "assistant", "content": "x"}]), "result.written",
         "does not take written"),
        (lambda r: r.update(mood="ok"), "result.mood", "Not part"),
    ],
)  # fmt: skip
def test_result_errors_name_their_path(change, path, words):
    result = good_result()
    change(result)
    errors = errors_of(lambda: clean(result))
    assert words in " ".join(errors[path]), errors


def test_rewrite_mode_alone_needs_a_rewrite_and_refuses_spans_without_error_types():
    schema = KIND.clean_schema({"modes": ["rewrite"]})
    assert (
        "Rewrite at least one"
        in errors_of(lambda: clean({"turns": []}, schema=schema))["result.turns"][0]
    )
    assert clean({"turns": [{"index": 4, "rewrite": "No: Canberra."}]}, schema=schema)["turns"] == [
        {"index": 4, "scores": {}, "spans": [], "rewrite": "No: Canberra."}
    ]
    errors = errors_of(
        lambda: clean(
            {"turns": [{"index": 4, "spans": [{"start": 0, "end": 2, "type": "x"}]}]}, schema=schema
        )
    )
    assert "no error types" in errors["result.turns.0.spans"][0]
    rated = KIND.clean_schema({"modes": ["rate"], "criteria": [{"name": "accuracy"}]})
    errors = errors_of(lambda: clean({**good_result(), "scores": None}, schema=rated))
    assert "does not take rewrites" in errors["result.turns.0.rewrite"][0]


def test_compare_mode_ranks_and_scores_every_candidate():
    schema = KIND.clean_schema({"modes": ["compare"], "criteria": [{"name": "accuracy"}]})
    data = {
        "messages": [{"role": "user", "content": "A prime?"}],
        "candidates": [{"id": "a", "content": "4"}, {"id": "b", "content": "7"}],
    }
    assert KIND.clean_data(data, schema=schema) == data
    errors = errors_of(lambda: clean({"order": ["a"], "candidates": []}, schema=schema, data=data))
    assert "every candidate id once" in errors["result.order"][0]
    assert "not yet: a, b" in errors["result.candidates"][0]
    answer = {
        "order": ["b", "a"],
        "candidates": [
            {"id": "b", "scores": {"accuracy": 5}},
            {"id": "a", "scores": {"accuracy": 1}},
        ],
    }
    cleaned = clean(answer, schema=schema, data=data)
    assert cleaned["order"] == ["b", "a"]
    assert [c["id"] for c in cleaned["candidates"]] == ["a", "b"]  # in the task's order


def test_write_mode_takes_the_next_reply_or_a_whole_exchange():
    reply = KIND.clean_schema({"modes": ["write"], "write": "reply"})
    asked = {"messages": [{"role": "user", "content": "Write a haiku about tests."}]}
    assert KIND.clean_data(asked, schema=reply) == asked
    assert (
        "Nothing to do"
        in errors_of(lambda: KIND.clean_data({"messages": []}, schema=reply))["data.messages"][0]
    )
    one = {"written": [{"role": "assistant", "content": "Green bar at dawn."}]}
    assert clean(one, schema=reply, data=asked)["written"] == one["written"]
    errors = errors_of(lambda: clean({"written": []}, schema=reply, data=asked))
    assert "Write the reply" in errors["result.written"][0]
    whole = KIND.clean_schema({"modes": ["write"], "write": "conversation"})
    exchange = {
        "written": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]
    }
    assert clean(exchange, schema=whole, data={"messages": []})["written"] == exchange["written"]
    errors = errors_of(
        lambda: clean({"written": [{"role": "assistant", "content": "x"}]}, schema=whole,
                      data={"messages": []})
    )  # fmt: skip
    assert errors["result.written.0.role"] == ["This turn is the user's."]
    errors = errors_of(
        lambda: clean({"written": exchange["written"][:1]}, schema=whole, data={"messages": []})
    )
    assert "End with the assistant" in errors["result.written"][0]


def test_the_rationale_follows_the_schema():
    required = {**SCHEMA, "rationale": "required"}
    assert (
        "asks for a rationale"
        in errors_of(lambda: clean(good_result(), schema=required))["result.rationale"][0]
    )
    none = {**SCHEMA, "rationale": "none"}
    assert "rationale" not in clean(good_result(rationale=""), schema=none)
    errors = errors_of(lambda: clean(good_result(rationale="because"), schema=none))
    assert "does not ask" in errors["result.rationale"][0]


@pytest.mark.django_db
def test_the_rubric_builder_saves_rows_and_adds_and_removes_them(client):
    maria = make_user("maria")
    project = make_project(kind="conversation", members={maria: Role.MANAGER})
    client.force_login(maria)
    url = reverse("projects:settings-schema", args=[project.pk])
    page = client.get(reverse("projects:settings", args=[project.pk])).content.decode()
    assert "Rubric and modes" in page
    assert page.count('data-testid="rubric-criterion-row"') == 2
    posted = {
        "mode": ["rate", "compare"],
        "write": "reply",
        "criterion_name": ["accuracy", "tone"],
        "criterion_scale": ["5", "3"],
        "criterion_per": ["turn", "conversation"],
        "criterion_labels": ["wrong\nweak\nso-so\ngood\nright", ""],
        "error_name": ["unsafe"],
        "error_severity": ["critical"],
        "rationale": "required",
    }
    added = client.post(url, {**posted, "action": "add-error-type"}, HTTP_HX_REQUEST="true")
    assert added.content.decode().count('data-testid="error-type-row"') == 2
    removed = client.post(url, {**posted, "action": "remove-criterion-1"}, HTTP_HX_REQUEST="true")
    assert removed.content.decode().count('data-testid="rubric-criterion-row"') == 1
    bad = client.post(url, {**posted, "criterion_labels": ["a\nb", ""], "action": "save"},
                      HTTP_HX_REQUEST="true")  # fmt: skip
    assert bad.status_code == 422
    assert "Give words for each of the 5 points" in bad.content.decode()
    saved = client.post(url, {**posted, "action": "save"}, HTTP_HX_REQUEST="true")
    assert saved.status_code == 200
    project.refresh_from_db()
    assert project.schema == {
        "modes": ["rate", "compare"],
        "criteria": [
            {"name": "accuracy", "scale": 5, "per": "turn",
             "labels": ["wrong", "weak", "so-so", "good", "right"]},
            {"name": "tone", "scale": 3, "per": "conversation", "labels": ["", "", ""]},
        ],
        "error_types": [{"name": "unsafe", "severity": "critical"}],
        "write": "reply",
        "rationale": "required",
    }  # fmt: skip


@pytest.mark.django_db
def test_two_answers_make_a_median_consensus_and_the_reviewer_reads_the_rewrite(
    client, django_capture_on_commit_callbacks
):
    ana, ben, rui = make_user("ana"), make_user("ben"), make_user("rui")
    project = make_project(
        kind="conversation",
        schema=SCHEMA,
        quality={"overlap": 2, "review_policy": "share", "review_share": 1.0},
        members={ana: Role.CONTRIBUTOR, ben: Role.CONTRIBUTOR, rui: Role.REVIEWER},
    )
    task = make_task(project=project, data=CHAT, overlap=2)
    answers = {
        ana: good_result(),
        ben: {"turns": [{"index": 2, "scores": {"accuracy": 2}, "spans": [{"start": 0, "end": 6,
              "type": "factual error"}]}, {"index": 4, "scores": {"accuracy": 3}}],
              "scores": {"overall": 2}},
    }  # fmt: skip
    for person, result in answers.items():
        with django_capture_on_commit_callbacks(execute=True):
            assignment = queue.assignment_claim_next(project=project, contributor=person)
            queue.annotation_submit(assignment_id=assignment.pk, contributor=person, result=result)
    task.refresh_from_db()
    assert task.status == TaskStatus.IN_REVIEW
    proposal = task.outcome.proposal
    assert [t["scores"] for t in proposal["turns"]] == [{"accuracy": 1}, {"accuracy": 1}]
    assert proposal["turns"][0]["spans"] == [
        {"start": 0, "end": 6, "type": "factual error", "note": "Canberra"}
    ]
    assert 0 < task.outcome.agreement < 1

    client.force_login(rui)
    html = client.get(reverse("quality:review", args=[project.pk, task.pk])).content.decode()
    assert html.count('data-testid="conversation-answer"') == 2
    assert '<span class="visually-hidden">removed: </span>Sydney.</del>' in html
    assert '<span class="visually-hidden">added: </span>Canberra.</ins>' in html
    assert "“Sydney”" in html  # the text a span marks
    assert "2 turns answered · 1 span · 1 rewrite" in html


def test_data_modes_narrow_the_projects_modes_for_one_task():
    kind = kinds.get("conversation")
    schema = kind.clean_schema(
        {
            "modes": ["compare", "write"],
            "criteria": [{"name": "accuracy", "scale": 5, "per": "turn"}],
            "error_types": [],
        }
    )
    data = {
        "messages": [{"role": "user", "content": "Name a prime."}],
        "candidates": [{"id": "a", "content": "4"}, {"id": "b", "content": "7"}],
    }
    answer = {
        "order": ["b", "a"],
        "candidates": [
            {"id": "a", "scores": {"accuracy": 1}, "spans": []},
            {"id": "b", "scores": {"accuracy": 5}, "spans": []},
        ],
    }
    with pytest.raises(ValidationError) as missing:  # the project's modes: a reply is due
        kind.clean_result(answer, schema=schema, data=kind.clean_data(data, schema=schema))
    assert any(path.startswith("result.written") for path in missing.value.message_dict)
    own = kind.clean_data({**data, "modes": ["compare"]}, schema=schema)
    assert kind.clean_result(answer, schema=schema, data=own)["order"] == ["b", "a"]
    with pytest.raises(ValidationError) as bad:
        kind.clean_data({**data, "modes": ["rewrite"]}, schema=schema)
    assert list(bad.value.message_dict) == ["data.modes"]
