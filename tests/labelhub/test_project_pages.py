"""The manager's pages: create, settings sections (htmx and plain), members, and who sees what."""

import json

import pytest
from django.urls import reverse

from labelhub.models import OrganizationMember, Project, ProjectMember, Role
from tests.factories import make_organization, make_project, make_task, make_user

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def acme():
    org = make_organization("Acme")
    boss = make_user("boss", organization=org)
    OrganizationMember.objects.filter(user=boss).update(is_admin=True)
    return org, boss


@pytest.fixture
def managed(acme, client):
    org, boss = acme
    project = make_project(organization=org, name="Cars", members={boss: Role.MANAGER})
    client.force_login(boss)
    return project


def url(name, project, *args):
    return reverse(f"projects:{name}", args=[project.pk, *args])


def test_admin_creates_a_project_from_the_home_page(client, acme):
    org, boss = acme
    client.force_login(boss)
    assert reverse("projects:new") in client.get(reverse("home")).content.decode()
    response = client.post(
        reverse("projects:new"), {"organization": org.pk, "name": "Clips", "kind": "transcription"}
    )
    project = Project.objects.get(name="Clips")
    assert response.url == url("settings", project)
    assert ProjectMember.objects.get(project=project).user == boss


def test_create_page_refuses_non_admins_and_repeats_bad_input(client, acme):
    org, boss = acme
    member = make_user(organization=org)
    client.force_login(member)
    assert reverse("projects:new") not in client.get(reverse("home")).content.decode()
    assert client.get(reverse("projects:new")).status_code == 404
    client.force_login(boss)
    make_project(organization=org, name="Taken")
    response = client.post(
        reverse("projects:new"), {"organization": org.pk, "name": "taken", "kind": "bbox"}
    )
    assert response.status_code == 422
    assert "Acme already has a project named this." in response.content.decode()


def test_contributors_get_the_plain_project_page_and_no_settings(client):
    ana = make_user()
    project = make_project(members={ana: Role.CONTRIBUTOR})
    project.instructions = "Box **every** car."
    project.save()
    client.force_login(ana)
    page = client.get(url("detail", project)).content.decode()
    assert "<strong>every</strong>" in page
    assert url("settings", project) not in page
    assert client.get(url("settings", project)).status_code == 404
    assert client.post(url("settings-general", project), {"name": "x"}).status_code == 404
    outsider = make_user()
    client.force_login(outsider)
    assert client.get(url("detail", project)).status_code == 404


def test_settings_page_shows_every_section_with_explanations(client, managed):
    page = client.get(url("settings", managed)).content.decode()
    for section in (
        'id="general"',
        'id="schema"',
        'id="quality"',
        'id="instructions"',
        'id="members"',
    ):
        assert section in page
    assert "How many different contributors label each task" in page
    assert "Box overlap to match (IoU)" in page  # a bbox project
    ranking = make_project(
        organization=managed.organization,
        kind="ranking",
        members={ProjectMember.objects.get(project=managed).user: "manager"},
    )
    assert "Box overlap to match" not in client.get(url("settings", ranking)).content.decode()


def test_bbox_labels_are_saved_from_the_builder_rows(client, managed):
    response = client.post(
        url("settings-schema", managed),
        {
            "action": "save",
            "label_name": ["car", "bus"],
            "label_colour": ["#ff0000", "#00ff00"],
            "label_hotkey": ["1", ""],
            "min_size": "4",
        },
        **HTMX,
    )
    assert response.status_code == 200
    assert "Saved." in response.content.decode()
    managed.refresh_from_db()
    assert managed.schema == {
        "labels": [
            {"name": "car", "colour": "#ff0000", "color": "#ff0000", "hotkey": 1},
            {"name": "bus", "colour": "#00ff00", "color": "#00ff00", "hotkey": None},
        ],
        "min_size": 4,
        "allow_empty": False,
    }


def test_builder_adds_and_removes_rows_without_saving(client, managed):
    before = managed.schema
    posted = {
        "label_name": ["car", "bus"],
        "label_colour": ["#ff0000", "#00ff00"],
        "label_hotkey": ["1", "2"],
        "min_size": "2",
    }
    added = client.post(url("settings-schema", managed), {**posted, "action": "add-label"}, **HTMX)
    assert added.content.decode().count('data-testid="label-row"') == 3
    assert "Not saved yet." in added.content.decode()
    removed = client.post(
        url("settings-schema", managed), {**posted, "action": "remove-label-0"}, **HTMX
    )
    html = removed.content.decode()
    assert html.count('data-testid="label-row"') == 1
    assert 'value="bus"' in html
    assert 'value="car"' not in html
    managed.refresh_from_db()
    assert managed.schema == before


def test_invalid_labels_come_back_with_422_and_the_message_on_the_row(client, managed):
    response = client.post(
        url("settings-schema", managed),
        {
            "action": "save",
            "label_name": ["car", "Car"],
            "label_colour": ["#ff0000", "#00ff00"],
            "label_hotkey": ["1", "1"],
            "min_size": "2",
        },
        **HTMX,
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "The label &#x27;Car&#x27; is given twice." in html
    assert "The hotkey 1 is used by another label." in html
    assert not html.lstrip().startswith("<!doctype")  # only the section


def test_schema_json_view_saves_and_reports_bad_json(client, managed):
    schema = {"labels": [{"name": "tree", "colour": "#00aa00", "hotkey": 3}]}
    response = client.post(
        url("settings-schema", managed),
        {"action": "save-json", "schema_json": json.dumps(schema)},
        **HTMX,
    )
    assert response.status_code == 200
    managed.refresh_from_db()
    assert managed.schema["labels"][0]["name"] == "tree"
    response = client.post(
        url("settings-schema", managed), {"action": "save-json", "schema_json": "{oops"}, **HTMX
    )
    assert response.status_code == 422
    assert "Not valid JSON" in response.content.decode()


def test_ranking_and_transcription_builders_save(client, acme):
    org, boss = acme
    client.force_login(boss)
    ranking = make_project(organization=org, kind="ranking", members={boss: Role.MANAGER})
    client.post(
        url("settings-schema", ranking),
        {
            "action": "save",
            "mode": "rank",
            "strength_scale": "5",
            "criterion": ["helpfulness", "honesty"],
            "rationale": "required",
        },
    )
    ranking.refresh_from_db()
    assert ranking.schema == {
        "mode": "rank",
        "strength_scale": 5,
        "criteria": ["helpfulness", "honesty"],
        "rationale": "required",
    }
    clips = make_project(organization=org, kind="transcription", members={boss: Role.MANAGER})
    response = client.post(
        url("settings-schema", clips),
        {"action": "save", "media": "image", "normalisation": ["lowercase"], "segments": "on"},
    )
    assert response.status_code == 422  # segments only for audio, whole page without htmx
    assert "Time segments only make sense for audio." in response.content.decode()
    response = client.post(
        url("settings-schema", clips),
        {"action": "save", "media": "audio", "normalisation": ["lowercase"], "segments": "on"},
    )
    assert response.status_code == 302
    clips.refresh_from_db()
    assert clips.schema == {"media": "audio", "normalisation": ["lowercase"], "segments": True}


def test_quality_form_saves_and_explains_refusals(client, managed):
    from labelhub.quality_bars import default_quality

    values = {
        **default_quality(managed.kind),
        "overlap": 3,
        "gold_rate": 0.05,
        "review_policy": "adaptive",
    }
    response = client.post(url("settings-quality", managed), values, **HTMX)
    assert response.status_code == 200
    managed.refresh_from_db()
    assert managed.quality["overlap"] == 3
    assert managed.quality["review_policy"] == "adaptive"
    response = client.post(url("settings-quality", managed), {**values, "gold_rate": 0.7}, **HTMX)
    assert response.status_code == 422
    assert "Give a value from 0.0 to 0.5." in response.content.decode()


def test_the_quality_form_shows_the_bars_of_the_projects_kind(client, acme):
    org, boss = acme
    client.force_login(boss)
    boxes = make_project(organization=org, name="Boxes", members={boss: Role.MANAGER})
    chats = make_project(
        organization=org, name="Chats", kind="ranking", members={boss: Role.MANAGER}
    )
    boxes_page = client.get(url("settings", boxes)).content.decode()
    chats_page = client.get(url("settings", chats)).content.decode()
    assert 'name="box_quorum"' in boxes_page
    assert 'name="strength_weight"' not in boxes_page
    assert 'name="strength_weight"' in chats_page
    assert 'name="criteria_weight"' in chats_page
    assert 'name="iou_threshold"' not in chats_page
    for policy in ("share", "adaptive", "none"):
        assert f'value="{policy}"' in chats_page


def test_instructions_preview_renders_safe_markdown(client, managed):
    response = client.post(
        url("instructions-preview", managed),
        {"instructions": "# Hello\n<script>alert(1)</script>"},
        **HTMX,
    )
    html = response.content.decode()
    assert "<h1>Hello</h1>" in html
    assert "<script>" not in html
    client.post(url("settings-instructions", managed), {"instructions": "Be *kind*"}, **HTMX)
    managed.refresh_from_db()
    assert managed.instructions == "Be *kind*"


def test_general_section_renames_and_locks_kind_once_tasks_exist(client, managed):
    response = client.post(url("settings-general", managed), {"name": "Cars 2", "kind": "bbox"})
    assert response.status_code == 302
    managed.refresh_from_db()
    assert managed.name == "Cars 2"
    make_task(project=managed)
    client.post(url("settings-general", managed), {"name": "Cars 3", "kind": "ranking"}, **HTMX)
    managed.refresh_from_db()
    assert (managed.name, managed.kind) == ("Cars 3", "bbox")


def test_members_are_added_changed_and_removed_but_one_manager_stays(client, managed, acme):
    org, boss = acme
    make_user("ana", organization=org)
    response = client.post(
        url("member-add", managed), {"username": "ana", "role": "contributor"}, **HTMX
    )
    assert response.status_code == 200
    ana = ProjectMember.objects.get(project=managed, user__username="ana")
    response = client.post(
        url("member-add", managed), {"username": "zed", "role": "reviewer"}, **HTMX
    )
    assert response.status_code == 422
    assert "No member of Acme has the username &#x27;zed&#x27;." in response.content.decode()
    client.post(url("member-role", managed, ana.pk), {f"m{ana.pk}-role": "reviewer"}, **HTMX)
    ana.refresh_from_db()
    assert ana.role == "reviewer"
    me = ProjectMember.objects.get(project=managed, user=boss)
    response = client.post(
        url("member-role", managed, me.pk), {f"m{me.pk}-role": "reviewer"}, **HTMX
    )
    assert response.status_code == 422
    assert "keeps at least one manager" in response.content.decode()
    response = client.post(url("member-remove", managed, me.pk), **HTMX)
    assert response.status_code == 422
    client.post(url("member-remove", managed, ana.pk), **HTMX)
    assert list(ProjectMember.objects.filter(project=managed)) == [me]


def test_members_of_another_project_cannot_be_touched(client, managed, acme):
    other = make_project(organization=acme[0])
    stranger = make_user()
    ProjectMember.objects.create(project=other, user=stranger, role="contributor")
    member = ProjectMember.objects.get(project=other)
    response = client.post(url("member-remove", managed, member.pk), **HTMX)
    assert response.status_code == 404
    assert ProjectMember.objects.filter(pk=member.pk).exists()
