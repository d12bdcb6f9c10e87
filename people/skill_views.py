"""Pages of profiles and skills: a member's own profile, the organization's skill list and a
person's page (admins), a project's requirements and finding people for it (managers), and
joining an open project. Writes go through :mod:`people.skills`."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from labelhub.forms import add_service_errors
from labelhub.models import PersonSkill, Project, ProjectMember, Role, Skill
from labelhub.permissions import organization_for, project_for
from people.forms import (
    ProfileForm,
    RequirementsForm,
    SkillCreateForm,
    SkillLevelsForm,
)
from people.skills import (
    Need,
    people_matching,
    person_skill_remove,
    person_skill_set,
    person_skill_verify,
    profile_of,
    profile_update,
    project_contributors_add,
    project_join_open,
    project_requirements_set,
    requirements_of,
    skill_create,
)


def _levels_of(user, organization) -> dict[int, PersonSkill]:
    return {
        held.skill_id: held
        for held in PersonSkill.objects.filter(
            user_id=user.pk, skill__organization=organization
        ).select_related("skill", "verified_by", "verified_project")
    }


def _save_levels(request, organization, user, form: SkillLevelsForm, held: dict) -> None:
    for skill, level in form.levels().items():
        if level is None:
            if skill.pk in held:
                person_skill_remove(
                    organization=organization, user=user, skill=skill.name, actor=request.user
                )
        elif skill.pk not in held or held[skill.pk].level != level:
            person_skill_set(
                organization=organization,
                user=user,
                skill=skill.name,
                level=level,
                actor=request.user,
            )


@require_http_methods(["GET", "POST"])
@login_required
def profile(request: HttpRequest, slug: str) -> HttpResponse:
    """A member's own profile (display name, languages, time zone) and skills in ``slug``."""
    organization = organization_for(user=request.user, slug=slug, admin=False)
    mine = profile_of(user=request.user)
    skills = Skill.objects.filter(organization=organization)
    held = _levels_of(request.user, organization)
    initial = {
        "display_name": mine.display_name,
        "languages": ", ".join(mine.languages or []),
        "time_zone": mine.time_zone,
    }
    profile_form = ProfileForm(initial=initial)
    levels_form = SkillLevelsForm(
        skills=skills, initial_levels={pk: h.level for pk, h in held.items()}
    )
    status = 200
    if request.method == "POST":
        try:
            if request.POST.get("action") == "skills":
                levels_form = SkillLevelsForm(request.POST, skills=skills, initial_levels={})
                if levels_form.is_valid():
                    _save_levels(request, organization, request.user, levels_form, held)
                    messages.success(request, "Your skills are saved.")
                    return redirect("people:profile", slug=slug)
            else:
                profile_form = ProfileForm(request.POST)
                if profile_form.is_valid():
                    profile_update(user=request.user, **profile_form.cleaned_data)
                    messages.success(request, "Your profile is saved.")
                    return redirect("people:profile", slug=slug)
        except ValidationError as error:
            add_service_errors(profile_form, error)
        status = 422
    context = {
        "organization": organization,
        "profile_form": profile_form,
        "levels_form": levels_form,
        "held": held,
    }
    return render(request, "people/profile.html", context, status=status)


@require_http_methods(["GET", "POST"])
@login_required
def skills_page(request: HttpRequest, slug: str) -> HttpResponse:
    """The organization's skill list and who holds each (admins)."""
    organization = organization_for(user=request.user, slug=slug)
    form = SkillCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            skill_create(organization=organization, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Added {form.cleaned_data['name']}.")
            return redirect("people:skills", slug=slug)
    skills = Skill.objects.filter(organization=organization).prefetch_related("holders__user")
    status = 422 if request.method == "POST" else 200
    context = {"organization": organization, "skills": skills, "form": form}
    return render(request, "people/skills.html", context, status=status)


@require_http_methods(["GET", "POST"])
@login_required
def person(request: HttpRequest, slug: str, user_id: int) -> HttpResponse:
    """One member's profile and skills; admins set levels and verify what was declared."""
    organization = organization_for(user=request.user, slug=slug)
    member = organization.members.select_related("user").filter(user_id=user_id).first()
    if member is None:
        raise Http404("No such member.")
    user = member.user
    skills = Skill.objects.filter(organization=organization)
    held = _levels_of(user, organization)
    form = SkillLevelsForm(skills=skills, initial_levels={pk: h.level for pk, h in held.items()})
    if request.method == "POST":
        try:
            if request.POST.get("verify"):
                person_skill_verify(
                    organization=organization,
                    user=user,
                    skill=request.POST["verify"],
                    actor=request.user,
                )
                messages.success(request, f"{request.POST['verify']} verified.")
            else:
                form = SkillLevelsForm(request.POST, skills=skills, initial_levels={})
                if form.is_valid():
                    _save_levels(request, organization, user, form, held)
                    messages.success(request, "Saved: the levels you set are verified by you.")
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        return redirect("people:person", slug=slug, user_id=user_id)
    context = {
        "organization": organization,
        "person": user,
        "member": member,
        "profile": profile_of(user=user),
        "held": list(held.values()),
        "form": form,
    }
    return render(request, "people/person.html", context)


# --- a project's requirements and its people --------------------------------------------------


def _needs_from(request: HttpRequest, skills) -> tuple[list[Need], list[str]]:
    needs = []
    for skill in skills:
        level = request.GET.get(f"skill_{skill.pk}", "")
        if level.isdigit() and int(level) in (1, 2, 3):
            verified = request.GET.get(f"verified_{skill.pk}") == "on"
            needs.append(Need(skill=skill.name, level=int(level), verified_only=verified))
    languages = [
        code.strip() for code in request.GET.get("languages", "").split(",") if code.strip()
    ]
    return needs, languages


@require_GET
@login_required
def project_people(request: HttpRequest, project_id: int) -> HttpResponse:
    """Requirements, and the organization's people filtered by them (or by what is asked
    here), to add as contributors (managers)."""
    project = project_for(user=request.user, project_id=project_id, action="manage")
    organization = project.organization
    skills = list(Skill.objects.filter(organization=organization))
    requirements = requirements_of(project)
    if "filter" in request.GET:
        needs, languages = _needs_from(request, skills)
        filter_data = request.GET
    else:
        needs = [
            Need(skill=r.skill.name, level=r.min_level, verified_only=r.verified_only)
            for r in requirements
        ]
        languages = list(project.languages or [])
        filter_data = None
    filter_form = RequirementsForm(
        filter_data, skills=skills, requirements=requirements, auto_id="filter_%s"
    )
    if filter_data is None:
        filter_form.initial["languages"] = ", ".join(languages)
    on_project = set(  # contributors already; a manager or reviewer may be added to label
        ProjectMember.objects.filter(project=project, role=Role.CONTRIBUTOR).values_list(
            "user_id", flat=True
        )
    )
    matching = [
        user
        for user in people_matching(organization=organization, needs=needs, languages=languages)
        if user.pk not in on_project
    ]
    context = {
        "project": project,
        "requirements_form": RequirementsForm(
            initial={"languages": ", ".join(project.languages or []), "is_open": project.is_open},
            skills=skills,
            requirements=requirements,
        ),
        "filter_form": filter_form,
        "matching": matching,
        "skills": skills,
    }
    return render(request, "people/project_people.html", context)


@require_POST
@login_required
def project_requirements(request: HttpRequest, project_id: int) -> HttpResponse:
    project = project_for(user=request.user, project_id=project_id, action="manage")
    skills = list(Skill.objects.filter(organization=project.organization))
    form = RequirementsForm(request.POST, skills=skills, requirements=[])
    if form.is_valid():
        needs = [
            Need(
                skill=skill.name,
                level=int(form.cleaned_data[f"skill_{skill.pk}"]),
                verified_only=form.cleaned_data[f"verified_{skill.pk}"],
            )
            for skill in skills
            if form.cleaned_data.get(f"skill_{skill.pk}")
        ]
        try:
            project_requirements_set(
                project=project,
                needs=needs,
                languages=form.cleaned_data["languages"],
                is_open=form.cleaned_data["is_open"],
                actor=request.user,
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, "Requirements saved.")
    return redirect("people:project-people", project_id=project.pk)


@require_POST
@login_required
def project_people_add(request: HttpRequest, project_id: int) -> HttpResponse:
    project = project_for(user=request.user, project_id=project_id, action="manage")
    ids = [int(v) for v in request.POST.getlist("people") if v.isdigit()]
    try:
        added = project_contributors_add(project=project, user_ids=ids, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        names = ", ".join(m.user.get_username() for m in added) or "nobody new"
        messages.success(request, f"Added as contributors: {names}.")
    return redirect("people:project-people", project_id=project.pk)


@require_POST
@login_required
def project_join(request: HttpRequest, project_id: int) -> HttpResponse:
    """Join an open project as a contributor: only someone it is offered to (else 404)."""
    project = Project.objects.select_related("organization").filter(pk=project_id).first()
    if project is None:
        raise Http404("No such project.")
    try:
        project_join_open(project=project, user=request.user)
    except ValidationError:
        raise Http404("No such project.") from None
    messages.success(request, f"You joined {project.name} as a contributor.")
    return redirect("projects:detail", project_id=project.pk)
