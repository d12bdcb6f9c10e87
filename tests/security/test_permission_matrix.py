"""Every route of the URLconf against every kind of caller: no data crosses roles or organizations.

The routes are walked from ``get_resolver()`` at test time, so a new view appears here by itself;
one without a rule in ``RULES`` fails ``test_every_route_has_a_permission_rule``.

Rules (who may use the route on organization A's objects):

- ``public``: anyone (log-in and password-reset pages, the API token exchange, the OpenAPI
  schema and its docs: the API is a published contract and the schema holds no data);
- ``login``: any signed-in person, who sees only their own things (home, account, new project);
- ``staff``: the Django admin (is_staff);
- ``view`` / ``manage`` / ``review`` / ``label``: a role on the project (``labelhub.permissions``);
- ``holder``: the contributor who holds the assignment;
- ``org_admin``: an admin of the organization (its People pages and API; A's manager is one);
- ``org_member``: any member of the organization (their own profile, the skill list);
- ``self_or_org_admin``: the person themselves (A's contributor is the ``user_id``) or an admin;
- ``joinable``: a member an open project is offered to (A's project is not open: nobody);
- ``auditable``: reviewers and managers of a project whose kind takes audits (A's does not:
  nobody).

The objects in the URLs all belong to organization A; the callers are anonymous, A's contributor,
reviewer and manager, a contributor and a manager of organization B's project, and a staff user
with no role anywhere. Every caller outside a route's rule must get 302 to the log-in page
(anonymous pages), 401/403 (anonymous API), 404 (signed-in: ids of others reveal nothing) or 405,
with no trace of A's data in the body, and nothing in the database may change.
"""

import json
import re
from dataclasses import dataclass

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core.files.base import ContentFile
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from annotation import queue
from annotation.models import Annotation, Assignment, ImportJob, Task, TaskStatus, WebhookDelivery
from appeals.models import Appeal
from appeals.services import appeal_file_rejection
from backends.models import ModelBackend
from evals.models import EvalModel, EvalRun, Judge
from exports.models import ExportJob, ExportStatus
from labelhub.models import (
    ApiToken,
    AuditEvent,
    Invitation,
    OrganizationMember,
    PersonSkill,
    Profile,
    Project,
    ProjectMember,
    ProjectRequirement,
    Role,
    Skill,
    SkillLevel,
)
from pay.models import Earning, EarningEvent, ProjectPay
from people.invitations import InviteRow, invitation_create_many
from quality.services import review_record
from sandbox.models import AuditAttempt, Proof
from signin.models import ProviderConfig
from tests.factories import make_organization, make_project, make_user
from tests.media import png_bytes

pytestmark = pytest.mark.django_db

SECRET = "Zephyr-Alpha-7"  # in A's project name, task data and media: must never reach outsiders

VIEW, MANAGE, REVIEW, LABEL = "view", "manage", "review", "label"
ORG_ADMIN = "org_admin"
ORG_MEMBER = "org_member"
RULES: dict[str, str] = {
    # core pages
    "home": "login",
    "account": "login",
    "projects:new": "login",
    "projects:detail": VIEW,
    "projects:settings": MANAGE,
    "projects:audit": MANAGE,
    "projects:settings-general": MANAGE,
    "projects:settings-schema": MANAGE,
    "projects:settings-quality": MANAGE,
    "projects:settings-content": MANAGE,
    "projects:settings-instructions": MANAGE,
    "projects:instructions-preview": MANAGE,
    "projects:member-add": MANAGE,
    "projects:member-role": MANAGE,
    "projects:member-remove": MANAGE,
    "projects:archive": MANAGE,
    "projects:unarchive": MANAGE,
    "projects:duplicate": MANAGE,
    "projects:delete": MANAGE,
    # an organization's people
    "people:organization-new": "staff",
    "people:list": ORG_ADMIN,
    "people:admin": ORG_ADMIN,
    "people:remove": ORG_ADMIN,
    "people:invite": ORG_ADMIN,
    "people:invite-link": ORG_ADMIN,
    "people:invitation-revoke": ORG_ADMIN,
    "people:accept": "public",  # the token in the URL is the key
    "people:email-verify": "public",  # as above: the mailed token is the key
    "people:profile": ORG_MEMBER,
    "people:skills": ORG_ADMIN,
    "people:content": ORG_ADMIN,
    "people:content-preferences": ORG_MEMBER,  # their own choices only
    "people:person": ORG_ADMIN,
    "people:project-people": MANAGE,
    "people:project-requirements": MANAGE,
    "people:project-people-add": MANAGE,
    "people:project-join": "joinable",
    # sign-in with an organization's identity provider
    "signin:find": "public",
    "signin:start": "public",
    "signin:callback": "public",  # the state in the session is the key
    "signin:settings": ORG_ADMIN,
    "signin:settings-delete": ORG_ADMIN,
    "signin:settings-scim-token": ORG_ADMIN,
    "api-org-sign-in": ORG_ADMIN,
    "api-org-sign-in-scim-token": ORG_ADMIN,
    "signin-scim:users": "scim",  # the organization's SCIM bearer token, nobody's session
    "signin-scim:user": "scim",
    # django.contrib.auth
    "login": "public",
    "logout": "public",
    "password_change": "login",
    "password_change_done": "login",
    "password_reset": "public",
    "password_reset_done": "public",
    "password_reset_confirm": "public",
    "password_reset_complete": "public",
    # annotation pages
    "annotation:task-media": VIEW,
    "annotation:task-thumbnail": VIEW,
    "annotation:task-preview": REVIEW,
    "annotation:task-preview-check": REVIEW,
    "annotation:work": LABEL,
    "annotation:work-next": LABEL,
    "annotation:work-submit": "holder",
    "annotation:work-skip": "holder",
    "annotation:task-list": MANAGE,
    "annotation:task-import": MANAGE,
    "annotation:import-status": MANAGE,
    "annotation:task-bulk": MANAGE,
    # quality pages
    "quality:review-queue": REVIEW,
    "quality:review-next": REVIEW,
    "quality:review": REVIEW,
    "quality:review-verdict": REVIEW,
    "quality:task-flag": MANAGE,
    "quality:task-page": MANAGE,
    "quality:my-work": LABEL,
    "quality:my-work-answer": LABEL,  # the caller's own answer only (annotation_id is theirs)
    "quality:dashboard": MANAGE,
    "quality:contributor-pause": MANAGE,
    "quality:contributor-resume": MANAGE,
    # live mode (genai)
    "genai:model-settings": MANAGE,
    "genai:live-turn": "holder",
    "api-live-model": MANAGE,
    # model backends
    "backends:list": MANAGE,
    "backends:action": MANAGE,
    "backends:task-predict": MANAGE,
    # rubric evals
    "evals:home": MANAGE,
    "evals:items-import": MANAGE,
    "evals:responses-import": MANAGE,
    "evals:run": MANAGE,
    "evals:runs": MANAGE,
    "evals:run-cancel": MANAGE,
    "evals:route": MANAGE,
    "evals:judges": MANAGE,
    "evals:judge-action": MANAGE,
    "evals:leaderboard": MANAGE,
    "evals:export": MANAGE,
    "api-evals-prompts": MANAGE,
    "api-evals-models": MANAGE,
    "api-evals-model": MANAGE,
    "api-evals-runs": MANAGE,
    "api-evals-run": MANAGE,
    "api-evals-run-cancel": MANAGE,
    "api-evals-responses": MANAGE,
    "api-evals-route": MANAGE,
    "api-evals-judges": MANAGE,
    "api-evals-judge": MANAGE,
    "api-evals-judge-runs": MANAGE,
    "api-evals-judge-calibrate": MANAGE,
    "api-evals-leaderboard": MANAGE,
    "api-evals-export": MANAGE,
    # API
    "api-next-task": LABEL,
    "api-assignment-draft": "holder",
    "api-assignment-submit": "holder",
    "api-assignment-skip": "holder",
    "project-tasks": VIEW,  # GET: view (contributors get the label-only shape); POST: manage
    "task-detail": VIEW,  # contributors: the label-only shape and their own answers
    "import-detail": MANAGE,
    "project-tasks-bulk": MANAGE,
    "api-review-next": REVIEW,
    "api-review-verdict": REVIEW,
    "api-contributors": MANAGE,
    "api-contributor-pause": MANAGE,
    "api-contributor-resume": MANAGE,
    "api-position-bias": MANAGE,
    "api-agreement": MANAGE,
    "api-token": "public",
    "api-schema": "public",
    "api-docs": "public",
    "api-projects": "login",  # lists only the caller's projects; POST needs an admin org
    "api-project": VIEW,  # GET: view; PATCH, DELETE: manage
    "api-project-members": MANAGE,
    "api-project-member": MANAGE,
    "api-project-archive": MANAGE,
    "api-project-unarchive": MANAGE,
    "api-project-duplicate": MANAGE,
    "api-org-members": ORG_ADMIN,
    "api-org-member": ORG_ADMIN,
    "api-org-invitations": ORG_ADMIN,
    "api-org-invitation-revoke": ORG_ADMIN,
    "api-org-skills": ORG_MEMBER,  # GET: members; POST: admins
    "api-org-profiles": ORG_ADMIN,
    "api-org-profile": "self_or_org_admin",
    "api-org-content-categories": ORG_MEMBER,  # GET: members; POST: admins
    "api-org-content-preferences": ORG_MEMBER,  # the caller's own
    "api-org-content-policy": ORG_MEMBER,  # GET: members; PATCH: admins
    "api-project-requirements": MANAGE,
    "api-project-join": "joinable",
    # unnamed
    "exports:export": MANAGE,
    "exports:job-status": MANAGE,
    "exports:job-download": MANAGE,
    "exports:webhooks": MANAGE,
    "exports:webhook-resend": MANAGE,
    "api-project-export": MANAGE,
    "api-project-exports": MANAGE,
    "api-export": MANAGE,
    "api-export-download": MANAGE,
    "api-project-results": MANAGE,
    "api-project-webhooks": MANAGE,
    "api-backends": MANAGE,
    "api-backend": MANAGE,
    "api-backend-predict": MANAGE,
    # appeals: filed by contributors, decided by reviewers and managers
    "appeals:queue": REVIEW,
    "appeals:appeal": REVIEW,
    "appeals:decide": REVIEW,
    "appeals:file-rejection": LABEL,
    "appeals:file-pause": LABEL,
    "api-appeals": "login",  # the caller's own appeals and those they decide
    "api-appeal": VIEW,  # the appellant (A's contributor), the project's reviewers and managers
    "api-appeal-decision": REVIEW,
    "favicon.ico": "public",
    # sandbox: proofs of environment tasks (the world's task is of a kind that needs none, so a
    # Check of it is refused to everyone; tests/environment proves the rule on environment tasks)
    "sandbox:check": REVIEW,  # and the contributor holding the task's lease
    "api-task-proofs": REVIEW,  # likewise
    "sandbox:proof": VIEW,  # who asked for it (A's contributor here), reviewers and managers
    "api-proof": VIEW,
    "sandbox:answer-proof": VIEW,  # the answer's author, reviewers and managers
    # audits of accepted tasks: reviewers and managers of a project whose kind takes audits (the
    # world's kind takes none, so nobody here; tests/environment/test_audits.py proves the rule)
    "sandbox:task-audits": "auditable",
    "sandbox:project-audits": "auditable",
    "api-task-audits": "auditable",
    "api-audit-rubric": "auditable",
    # a judge model grades an audit's claims: managers of a project whose kind takes audits
    # (nobody here; tests/evals/test_audit_judging.py proves the manager-only rule)
    "evals:audit-judge": "auditable",
    "api-audit-judge": "auditable",
    "api-project-audits": REVIEW,  # the agreement figures: reviewers and managers of any kind
    # pay
    "pay:project": VIEW,  # GET: members read the rates; POST: managers
    "pay:organization": ORG_ADMIN,
    "pay:statements": ORG_MEMBER,  # one's own statement; admins: everyone's
    "pay:mine": "login",
    "api-project-pay": VIEW,  # GET: members; PUT: managers
    "api-project-pay-ledger": VIEW,  # managers: every entry; others their own
    "pay:backpay": MANAGE,  # POST: pay earlier answers at the rates now set
    "api-project-pay-backpay": MANAGE,
    "api-org-pay": ORG_MEMBER,  # GET: members; PUT: admins
    "api-org-statements": ORG_MEMBER,
    "api-org-payouts": ORG_ADMIN,
}
# Writes on routes whose reads are open wider than their writes.
WRITE_RULES = {
    "project-tasks": MANAGE,
    "api-project": MANAGE,
    "api-org-skills": ORG_ADMIN,
    "pay:project": MANAGE,
    "api-project-pay": MANAGE,
    "api-org-pay": ORG_ADMIN,
    "api-org-content-categories": ORG_ADMIN,
    "api-org-content-policy": ORG_ADMIN,
}

ALLOWED = {
    VIEW: {"contributor", "reviewer", "manager"},
    MANAGE: {"manager"},
    REVIEW: {"reviewer", "manager"},
    LABEL: {"contributor"},
    "holder": {"contributor"},
    ORG_ADMIN: {"manager"},
    ORG_MEMBER: {"contributor", "reviewer", "manager"},
    "self_or_org_admin": {"contributor", "manager"},
    "joinable": set(),
    "auditable": set(),
    "scim": set(),
    "staff": {"staff"},
}
CALLERS = [
    "anonymous",
    "contributor",
    "reviewer",
    "manager",
    "other_contributor",
    "other_manager",
    "staff",
]
METHODS = ["get", "post", "put", "patch", "delete"]
PAGE_METHODS = ["get", "post"]  # pages take no other method (require_GET / require_POST)
DENIED_ANONYMOUS = {302, 401, 403, 404, 405}
DENIED_SIGNED_IN = {403, 404, 405}


@dataclass
class Route:
    key: str  # the rule's key: namespaced URL name, or the pattern for unnamed routes
    pattern: str
    kwargs: tuple[str, ...]
    is_api: bool


def walk(patterns, prefix: str = "", namespace: str = ""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = namespace
            if entry.namespace:
                ns = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from walk(entry.url_patterns, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            full = prefix + str(entry.pattern)
            name = entry.name and (f"{namespace}:{entry.name}" if namespace else entry.name)
            key = name or full
            yield Route(
                key=key,
                pattern=full,
                kwargs=tuple(re.findall(r"<(?:\w+:)?(\w+)>", full)),
                is_api=full.startswith("api/"),
            )


def all_routes() -> list[Route]:
    return list(walk(get_resolver().url_patterns))


def is_admin(route: Route) -> bool:
    return route.pattern.startswith("admin/")


def test_every_route_has_a_permission_rule():
    missing = [r.key for r in all_routes() if not is_admin(r) and r.key not in RULES]
    assert missing == [], f"new view without a permission rule: {missing}"
    stale = set(RULES) - {r.key for r in all_routes()}
    assert stale == set(), f"rules for routes that no longer exist: {stale}"


@pytest.fixture
def world(django_capture_on_commit_callbacks):
    """Organization A (the target) with every kind of object; organization B with its own people."""
    org_a, org_b = make_organization(), make_organization()
    contributor, reviewer, manager = make_user(), make_user(), make_user()
    second = make_user()
    project = make_project(
        organization=org_a,
        kind="ranking",
        name=f"Project {SECRET}",
        quality={"review_policy": "share", "review_share": 1.0},
        members={
            contributor: Role.CONTRIBUTOR,
            second: Role.CONTRIBUTOR,
            reviewer: Role.REVIEWER,
            manager: Role.MANAGER,
        },
    )
    data = {
        "prompt": f"Which is better? {SECRET}",
        "responses": [{"id": "a", "text": "A"}, {"id": "b", "text": "B"}],
    }
    in_review = Task.objects.create(project=project, data=data, external_id=f"r-{SECRET}")
    with django_capture_on_commit_callbacks(execute=True):
        a = queue.assignment_claim_next(project=project, contributor=second)
        queue.annotation_submit(
            assignment_id=a.pk,
            contributor=second,
            result={"preference": "a", "strength": 1},
            active_seconds=5,
        )
    in_review.refresh_from_db()
    assert in_review.status == TaskStatus.IN_REVIEW
    in_review.media.save("secret.png", ContentFile(png_bytes(20, 20).read()))
    in_review.thumbnail.save("secret-thumb.png", ContentFile(png_bytes(10, 10).read()))
    # An answer of A's contributor (its page in "my work"), then the lease they hold.
    Task.objects.create(project=project, data=data, external_id=f"m-{SECRET}")
    with django_capture_on_commit_callbacks(execute=True):
        lease = queue.assignment_claim_next(project=project, contributor=contributor)
        answered = queue.annotation_submit(
            assignment_id=lease.pk,
            contributor=contributor,
            result={"preference": "b", "strength": 1},
            active_seconds=5,
        ).annotation
    Task.objects.create(project=project, data=data, external_id=f"o-{SECRET}")
    held = queue.assignment_claim_next(project=project, contributor=contributor)
    # The answer is rejected and its author appeals (the appeal's pages and API).
    answered_task = Task.objects.get(pk=answered.task_id)
    review_record(
        task_id=answered_task.pk,
        project=project,
        reviewer=reviewer,
        verdict="reject",
        version=answered_task.outcome.version,
        comment=f"Wrong {SECRET}",
    )
    appeal = appeal_file_rejection(
        annotation_id=answered.pk, user=contributor, comment=f"Right {SECRET}"
    )
    job = ImportJob.objects.create(
        project=project, created_by=manager, original_name=f"{SECRET}.csv", upload="imports/x.csv"
    )
    export_job = ExportJob.objects.create(
        project=project,
        created_by=manager,
        format="rankings",
        status=ExportStatus.DONE,
        file=ContentFile(SECRET.encode(), name=f"{SECRET}.jsonl"),
        filename=f"{SECRET}.jsonl",
    )
    delivery = WebhookDelivery.objects.create(
        project=project,
        task=in_review,
        event="task.accepted",
        url="https://customer.example/hook",
        payload={"secret": SECRET},
    )
    backend = ModelBackend.objects.create(
        project=project, name=f"Model {SECRET}", url="https://models.example/", auth_header=SECRET
    )
    eval_model = EvalModel.objects.create(
        project=project, name=f"Model {SECRET}", base_url="https://models.example/v1", model="m"
    )
    judge = Judge.objects.create(
        project=project, name=f"Judge {SECRET}", base_url="https://models.example/v1", model="j"
    )
    eval_run = EvalRun.objects.create(project=project)
    other_contributor, other_manager = make_user(), make_user()
    make_project(
        organization=org_b,
        kind="ranking",
        members={other_contributor: Role.CONTRIBUTOR, other_manager: Role.MANAGER},
    )
    staff = make_user(is_staff=True)
    # Pay: rates, and an entry whose project name carries the secret.
    ProjectPay.objects.create(project=project, accepted_rate="0.50")
    Earning.objects.create(
        organization=org_a,
        project=project,
        project_name=project.name,
        person=contributor,
        annotation=answered,
        event=EarningEvent.JUDGED,
        amount="0.50",
        currency="USD",
        note=SECRET,
        created_at=answered.created_at,
    )
    # A's manager is an admin of A, B's manager of B: an admin elsewhere gets nothing here.
    OrganizationMember.objects.filter(organization=org_a, user=manager).update(is_admin=True)
    OrganizationMember.objects.filter(organization=org_b, user=other_manager).update(is_admin=True)
    python = Skill.objects.create(organization=org_a, name="python")
    ProviderConfig.objects.create(
        organization=org_a,
        display_name=f"SSO {SECRET}",
        issuer="https://login.example",
        client_id="labelhub",
        client_secret=SECRET,
        allowed_domains=["a.example"],
    )
    PersonSkill.objects.create(skill=python, user=contributor, level=SkillLevel.WORKING)
    invitation = invitation_create_many(
        organization=org_a,
        actor=manager,
        rows=[
            InviteRow(email=f"{SECRET.lower()}@example.com", role="contributor", project=project)
        ],
        base_url="http://testserver/",
    )[0].invitation
    kwargs = {
        "project_id": project.pk,
        "task_id": in_review.pk,
        "assignment_id": held.pk,
        "annotation_id": answered.pk,
        "import_id": job.pk,
        "job_id": export_job.pk,
        "export_id": export_job.pk,
        "delivery_id": delivery.pk,
        "backend_id": backend.pk,
        "model_id": eval_model.pk,
        "judge_id": judge.pk,
        "run_id": eval_run.pk,
        "name": "scores",
        "member_id": ProjectMember.objects.get(project=project, user=contributor).pk,
        "user_id": contributor.pk,
        "slug": org_a.slug,
        "invitation_id": invitation.pk,
        "appeal_id": appeal.pk,
        "proof_id": Proof.objects.create(
            project=project,
            task=answered_task,
            requested_by=contributor,
            content_key="0" * 64,
            result={"instruction": SECRET},
        ).pk,
        "audit_id": AuditAttempt.objects.create(
            project=project,
            task=answered_task,
            auditor=reviewer,
            attempt=SECRET,
            expected_pass=True,
        ).pk,
        "uidb64": urlsafe_base64_encode(force_bytes(contributor.pk)),
        "token": default_token_generator.make_token(contributor),
    }
    people = {
        "anonymous": None,
        "contributor": contributor,
        "reviewer": reviewer,
        "manager": manager,
        "other_contributor": other_contributor,
        "other_manager": other_manager,
        "staff": staff,
    }
    return project, people, kwargs


def url_for(route: Route, kwargs: dict) -> str:
    path = route.pattern
    for name in route.kwargs:
        path = re.sub(rf"<(?:\w+:)?{name}>", str(kwargs[name]), path)
    return "/" + path


# A plausible body for every write: valid enough that a missing permission check would act on it.
BODY = {
    "result": {"preference": "b", "strength": 2},
    "active_seconds": 3,
    "reason": "other",
    "verdict": "accept",
    "comment": "ok",
    "name": "Hijacked",
    "instructions": "Hijacked",
    "username": "intruder",
    "role": "manager",
    "data": {"prompt": "x", "responses": []},
    "confirmation": f"Project {SECRET}",  # the project's name: a delete would go through
    "action": "delete",  # the data manager's bulk route: would delete …
    "tasks": [1, 2, 3, 4, 5],  # … these (the API's ids) …
    "task": "1",  # … or this one (the page's)
    "confirm": "delete",
    "is_admin": "true",  # the People routes: would make the contributor an admin …
    "emails": ["intruder@example.com"],  # … or invite someone
    "expires_in_days": 7,
    "skills": [{"skill": "python", "level": "expert"}],  # skills, profiles, requirements …
    "skill_1": "3",
    "verify": ["python"],
    "languages": ["de"],
    "display_name": "Hijacked",
    "is_open": "true",  # … or open the project to anyone
    "people": ["1", "2", "3"],
}


def request(client, method: str, route: Route, url: str):
    if method == "get":
        return client.get(url)
    if route.is_api:
        return getattr(client, method)(url, json.dumps(BODY), content_type="application/json")
    form = {k: json.dumps(v) if isinstance(v, dict) else v for k, v in BODY.items()}
    if method == "post":
        return client.post(url, form)
    return getattr(client, method)(url)


def snapshot(project: Project) -> tuple:
    project.refresh_from_db()
    return (
        project.name,
        project.archived_at,
        Project.objects.count(),
        project.instructions,
        json.dumps(project.schema, sort_keys=True),
        json.dumps(project.quality, sort_keys=True),
        sorted(ProjectMember.objects.filter(project=project).values_list("user_id", "role")),
        Annotation.objects.count(),
        sorted(Assignment.objects.values_list("pk", "status", "version")),
        sorted(Task.objects.values_list("pk", "status")),
        AuditEvent.objects.count(),
        sorted(OrganizationMember.objects.values_list("organization_id", "user_id", "is_admin")),
        sorted(Invitation.objects.values_list("pk", "revoked_at", "use_count")),
        ApiToken.objects.count(),
        sorted(PersonSkill.objects.values_list("user_id", "skill_id", "level", "verification")),
        sorted(Skill.objects.values_list("organization_id", "name")),
        sorted(Profile.objects.values_list("user_id", "display_name")),
        (project.is_open, project.languages, ProjectRequirement.objects.count()),
        sorted(Appeal.objects.values_list("pk", "status", "comment")),
    )


def body_of(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def _rule(route: Route, method: str) -> str:
    if method != "get" and route.key in WRITE_RULES:
        return WRITE_RULES[route.key]
    return RULES[route.key]


@pytest.mark.parametrize("caller", CALLERS)
def test_no_route_gives_a_caller_more_than_their_rule(client, world, caller):
    project, people, kwargs = world
    user = people[caller]
    if user is not None:
        client.force_login(user)
    before = snapshot(project)
    failures = []
    for route in all_routes():
        if is_admin(route):
            continue
        rule = RULES[route.key]
        if rule in ("public", "login"):
            continue
        url = url_for(route, kwargs)
        for method in METHODS if route.is_api else PAGE_METHODS:
            if caller in ALLOWED[_rule(route, method)]:
                continue
            response = request(client, method, route, url)
            # SCIM authenticates its client by bearer token alone: a session is no one there (401).
            anonymous = user is None or rule == "scim"
            allowed_statuses = DENIED_ANONYMOUS if anonymous else DENIED_SIGNED_IN
            if response.status_code not in allowed_statuses:
                failures.append(f"{method.upper()} {url} ({route.key}): {response.status_code}")
            elif response.status_code == 302 and "/accounts/login/" not in response["Location"]:
                failures.append(f"{method.upper()} {url}: redirects to {response['Location']}")
            if SECRET.encode() in body_of(response):
                failures.append(f"{method.upper()} {url}: shows organization A's data")
    assert failures == []
    assert snapshot(project) == before, "a refused request changed something"


@pytest.mark.parametrize("caller", ["contributor", "reviewer", "manager"])
def test_each_role_reaches_the_pages_its_rule_grants(client, world, caller):
    """The other side of the matrix: the rules are not simply 'nobody'."""
    _project, people, kwargs = world
    client.force_login(people[caller])
    failures = []
    for route in all_routes():
        if is_admin(route) or RULES[route.key] in ("public", "login"):
            continue
        if caller not in ALLOWED[RULES[route.key]]:
            continue
        response = client.get(url_for(route, kwargs))
        if response.status_code not in (200, 204, 302, 405):
            failures.append(f"GET {route.key}: {response.status_code}")
    assert failures == []


@pytest.mark.parametrize("caller", ["anonymous", "contributor", "manager", "other_manager"])
def test_the_admin_is_for_staff_only(client, world, caller):
    project, people, _kwargs = world
    if people[caller] is not None:
        client.force_login(people[caller])
    for url in [
        "/admin/",
        "/admin/labelhub/project/",
        f"/admin/labelhub/project/{project.pk}/change/",
        "/admin/annotation/task/",
        "/admin/auth/user/",
    ]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/admin/login/"), url


def test_staff_without_a_role_sees_no_project_data_outside_the_admin(client, world):
    project, people, _kwargs = world
    client.force_login(people["staff"])
    assert SECRET not in client.get("/").content.decode()
    assert client.get(f"/projects/{project.pk}/").status_code == 404
    listed = client.get("/api/v1/projects/").content.decode()
    assert SECRET not in listed


@pytest.mark.parametrize("caller", ["other_contributor", "other_manager", "staff"])
def test_login_routes_show_outsiders_only_their_own_things(client, world, caller):
    _project, people, kwargs = world
    client.force_login(people[caller])
    for route in all_routes():
        if is_admin(route) or RULES[route.key] != "login":
            continue
        response = client.get(url_for(route, kwargs))
        assert response.status_code in (200, 302, 404), route.key
        assert SECRET.encode() not in body_of(response), route.key
