"""State checks: known answers for every operator and target, and malformed checks refused by
their field."""

import json

import pytest
from django.core.exceptions import ValidationError

from kinds.environment import checks
from kinds.environment.demo import INVOICE_TASK
from kinds.environment.kind import EnvironmentKind

FILES = {
    "out.json": json.dumps(
        {"total": 105.25, "ids": [2, 3], "status": "open", "meta": {"a b": True}, "n": "7"}
    ),
    "table.csv": "id,customer,amount\n1,Acme,120.50\n2,Globex,75\n",
    "note.txt": "Invoice 2 is OPEN\n",
}


def read(name):
    return FILES.get(name)


@pytest.mark.parametrize(
    ("check", "expected"),
    [
        ({"file": "out.json", "json": "$.total", "op": "eq", "value": 105.25}, True),
        ({"file": "out.json", "json": "$.total", "op": "eq", "value": 105.3}, False),
        ({"file": "out.json", "json": "$.status", "op": "neq", "value": "paid"}, True),
        ({"file": "out.json", "json": "$.status", "op": "neq", "value": "open"}, False),
        ({"file": "out.json", "json": "$.total", "op": "gt", "value": 100}, True),
        ({"file": "out.json", "json": "$.total", "op": "gt", "value": 105.25}, False),
        ({"file": "out.json", "json": "$.total", "op": "gte", "value": 105.25}, True),
        ({"file": "out.json", "json": "$.total", "op": "lt", "value": 105.25}, False),
        ({"file": "out.json", "json": "$.n", "op": "lte", "value": 7}, True),
        ({"file": "out.json", "json": "$.status", "op": "gt", "value": 1}, False),
        ({"file": "out.json", "json": "$.status", "op": "in", "value": ["open", "due"]}, True),
        ({"file": "out.json", "json": "$.status", "op": "in", "value": ["paid"]}, False),
        ({"file": "out.json", "json": "$.ids", "op": "contains", "value": 3}, True),
        ({"file": "out.json", "json": "$.ids", "op": "contains", "value": 1}, False),
        ({"file": "note.txt", "op": "contains", "value": "OPEN"}, True),
        ({"file": "note.txt", "op": "regex", "value": r"^Invoice \d+ is (OPEN|PAID)$"}, True),
        ({"file": "note.txt", "op": "regex", "value": r"paid"}, False),
        ({"file": "note.txt", "op": "eq", "value": "Invoice 2 is OPEN"}, True),
        ({"file": "out.json", "json": "$.ids", "op": "deep_equal", "value": [2, 3]}, True),
        ({"file": "out.json", "json": "$.ids", "op": "deep_equal", "value": [3, 2]}, False),
        ({"file": "out.json", "json": '$.meta["a b"]', "op": "eq", "value": True}, True),
        ({"file": "out.json", "json": "$.ids[1]", "op": "eq", "value": 3}, True),
        ({"file": "out.json", "json": "$.ids[5]", "op": "exists", "value": False}, True),
        ({"file": "out.json", "json": "$.ids[5]", "op": "eq", "value": None}, False),
        ({"file": "missing.json", "op": "exists", "value": True}, False),
        ({"file": "note.txt", "op": "exists", "value": True}, True),
        (
            {"file": "table.csv", "csv": {"row": 2, "column": "amount"}, "op": "eq", "value": 75},
            True,
        ),
        ({"file": "table.csv", "csv": {"row": 1, "column": 1}, "op": "eq", "value": "Acme"}, True),
        (
            {
                "file": "table.csv",
                "csv": {"row": 3, "column": "amount"},
                "op": "exists",
                "value": False,
            },
            True,
        ),
    ],
)
def test_known_answers(check, expected):
    reward, lines = checks.evaluate([check], read=read)
    assert lines[0]["passed"] is expected
    assert reward == (1.0 if expected else 0.0)


def test_weighted_share_and_all():
    both = [
        {"file": "out.json", "json": "$.total", "op": "eq", "value": 105.25, "weight": 3},
        {"file": "out.json", "json": "$.status", "op": "eq", "value": "paid", "weight": 1},
    ]
    assert checks.evaluate(both, read=read, mode="weighted")[0] == 0.75
    assert checks.evaluate(both, read=read, mode="all")[0] == 0.0


def test_a_file_that_is_not_json_fails_its_check_with_a_message():
    _, lines = checks.evaluate(
        [{"file": "note.txt", "json": "$.a", "op": "exists", "value": True}], read=read
    )
    assert lines[0]["passed"] is False
    assert "not JSON" in lines[0]["message"]


def test_the_tree_reader_never_follows_a_link_out_of_the_tree(tmp_path):
    (tmp_path / "inside.txt").write_text("ok")
    (tmp_path / "escape").symlink_to("/etc/hostname")
    (tmp_path / "dir").symlink_to("/etc")
    read_tree = checks.tree_reader(str(tmp_path))
    assert read_tree("inside.txt") == "ok"
    assert read_tree("escape") is None
    assert read_tree("dir/hostname") is None
    assert read_tree("../etc/hostname") is None


KIND = EnvironmentKind()
SCHEMA = KIND.clean_schema(KIND.default_schema())


AT = "result.verifier.checks.0"


def _with_checks(*checks_given):
    return {**INVOICE_TASK, "verifier": {"checks": list(checks_given)}}


@pytest.mark.parametrize(
    ("check", "path"),
    [
        ({"file": "../x", "op": "eq", "value": 1}, "result.verifier.checks.0.file"),
        ({"file": "a.json", "op": "bigger", "value": 1}, "result.verifier.checks.0.op"),
        ({"file": "a.json", "op": "gt", "value": "ten"}, "result.verifier.checks.0.value"),
        ({"file": "a.json", "op": "in", "value": 3}, "result.verifier.checks.0.value"),
        ({"file": "a.json", "op": "exists", "value": "yes"}, "result.verifier.checks.0.value"),
        ({"file": "a.txt", "op": "regex", "value": "(unclosed"}, "result.verifier.checks.0.value"),
        ({"file": "a.json", "json": "$.[", "op": "eq", "value": 1}, f"{AT}.json"),
        ({"file": "a.csv", "csv": {"row": 0, "column": "x"}, "op": "eq", "value": 1}, f"{AT}.csv"),
        ({"file": "a.json", "op": "eq", "value": 1, "weight": -2}, f"{AT}.weight"),
        ({"file": "a.json", "op": "eq", "value": 1, "colour": "red"}, f"{AT}.colour"),
    ],
)
def test_a_malformed_check_is_refused_with_its_field(check, path):
    with pytest.raises(ValidationError) as caught:
        KIND.clean_result(_with_checks(check), schema=SCHEMA, data={})
    assert path in caught.value.message_dict


def test_a_verifier_needs_something_provable():
    result = {**INVOICE_TASK, "verifier": {"rubric": [{"claim": "It is clear.", "points": 1}]}}
    with pytest.raises(ValidationError) as caught:
        KIND.clean_result(result, schema=SCHEMA, data={})
    assert "result.verifier" in caught.value.message_dict


def test_files_over_the_limits_are_refused():
    schema = {**SCHEMA, "limits": {**SCHEMA["limits"], "files": 2, "bytes": 1000}}
    many = {**INVOICE_TASK, "files": {f"f{i}.txt": "x" for i in range(3)}}
    with pytest.raises(ValidationError) as caught:
        KIND.clean_result(many, schema=schema, data={})
    assert "At most 2 files" in caught.value.message_dict["result.files"][0]
    big = {**INVOICE_TASK, "files": {"big.txt": "x" * 2000}}
    with pytest.raises(ValidationError) as caught:
        KIND.clean_result(big, schema=schema, data={})
    assert "1,000 bytes" in caught.value.message_dict["result.files"][0]
    climbing = {**INVOICE_TASK, "files": {"../etc/passwd": "x"}}
    with pytest.raises(ValidationError) as caught:
        KIND.clean_result(climbing, schema=SCHEMA, data={})
    assert "result.files.../etc/passwd" in caught.value.message_dict
