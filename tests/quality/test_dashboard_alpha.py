"""The dashboard's Krippendorff's α, checked against the krippendorff package."""

import krippendorff
import numpy as np
import pytest
from django.urls import reverse

from annotation import queue
from labelhub.models import Role
from quality.selectors import project_alpha
from tests.factories import make_project, make_task, make_user

pytestmark = pytest.mark.django_db

ANSWERS = [  # per task: what ana, ben and cleo prefer
    ("a", "a", "a"),
    ("b", "b", "a"),
    ("tie", "tie", "tie"),
    ("a", "b", "b"),
    ("b", "b", "b"),
]


def test_project_alpha_of_pairwise_verdicts_matches_the_reference(
    client, django_capture_on_commit_callbacks
):
    people = [make_user(name) for name in ("ana", "ben", "cleo")]
    manager = make_user("maria")
    project = make_project(
        kind="ranking",
        quality={"overlap": 3, "review_policy": "none"},
        members={**dict.fromkeys(people, Role.CONTRIBUTOR), manager: Role.MANAGER},
    )
    for _ in ANSWERS:
        make_task(project=project, overlap=3)
    for column, person in enumerate(people):
        for verdicts in ANSWERS:
            with django_capture_on_commit_callbacks(execute=True):
                assignment = queue.assignment_claim_next(project=project, contributor=person)
                queue.annotation_submit(
                    assignment_id=assignment.pk,
                    contributor=person,
                    result={"preference": verdicts[column], "strength": 1},
                )

    [figure] = project_alpha(project=project)
    codes = {"a": 0, "tie": 1, "b": 2}
    reliability = np.array([[codes[task[i]] for task in ANSWERS] for i in range(3)], dtype=float)
    expected = krippendorff.alpha(reliability_data=reliability, level_of_measurement="nominal")
    assert figure.tasks == len(ANSWERS)
    assert figure.alpha == pytest.approx(expected, abs=1e-9)

    client.force_login(manager)
    html = client.get(reverse("quality:dashboard", args=[project.pk])).content.decode()
    assert f"{expected:.3f}" in html
    assert "Agreement beyond chance" in html


def test_kinds_without_a_nominal_answer_show_no_alpha():
    assert project_alpha(project=make_project(kind="bbox")) == []
