"""Who listens to what: every named hook, when its listeners run, and which they are.

Run with ``-s`` to read the wiring; the test also holds it to what the apps' ``ready()`` connect.
"""

import pytest
from django.db import transaction

from labelhub import hooks
from labelhub.hooks import Hook, When, wiring


def test_print_the_wiring():
    rows = wiring()
    print()
    for name, when, arguments, listeners in rows:
        print(f"{name} ({arguments}) — {when}")
        for listener in listeners:
            print(f"    → {listener}")
    by_name = {name: (when, listeners) for name, when, _, listeners in rows}
    assert by_name["annotation.submitted"] == (
        "after commit",
        ["quality.tasks.after_submit"],
    )
    assert by_name["answers.judged"] == (
        "in transaction",
        ["pay.ledger.answers_judged", "evals.services.answers_judged_recalibrate"],
    )
    assert by_name["answers.rejected"] == ("in transaction", ["pay.ledger.answers_rejected"])
    assert by_name["project.figures"][1] == [
        "tasks: annotation.apps.task_figures",
        "judging: quality.apps.judging_figures",
        "fair_pay: pay.selectors.fair_pay_figure",
    ]
    assert by_name["tasks.imported"][1] == ["backends.apps._prelabel_after_import"]
    assert by_name["answer.gate"] == ("on read", ["sandbox.services.proof_refusal"])
    assert by_name["export.evidence"] == ("on read", ["sandbox.selectors.proof_evidence"])
    assert all(listeners for _, listeners in by_name.values()), "a hook nobody listens to"


@pytest.fixture
def own_hooks():
    before = list(hooks._HOOKS)
    yield
    hooks._HOOKS[:] = before


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("own_hooks")
def test_a_hook_runs_its_listeners_when_it_says():
    heard = []
    now = Hook("test.now", when=When.IN_TRANSACTION, arguments="n", doc="")
    later = Hook("test.later", when=When.AFTER_COMMIT, arguments="n", doc="")
    now.connect(lambda *, n: heard.append(("now", n)), label="now")
    later.connect(lambda *, n: heard.append(("later", n)), label="later")
    later.connect(lambda *, n: heard.append(("later", n)), label="later")  # again: replaces
    with transaction.atomic():
        now.send(n=1)
        later.send(n=1)
        assert heard == [("now", 1)]
    assert heard == [("now", 1), ("later", 1)]
    with pytest.raises(TypeError):
        now.collect(n=2)
