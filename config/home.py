"""The home page: a person's projects grouped by what they can do there, and the open projects
they could join.

It reads from every layer (projects and roles from labelhub, task counts and the queue's waiting
figures from annotation, open projects from people), which is why it lives in ``config``.
"""

from dataclasses import dataclass, field

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from annotation.selectors import task_counts_by_project, tasks_waiting_for_each
from labelhub.models import Project, Role
from labelhub.selectors import project_list_for_user
from labelhub.services import organizations_where_admin
from people.skills import open_projects_for


@dataclass
class HomeGroups:
    """A person's projects, grouped by what they can do there."""

    label: list[Project] = field(default_factory=list)
    review: list[Project] = field(default_factory=list)
    manage: list[Project] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (self.label or self.review or self.manage)


def home_groups_for_user(*, user: AbstractBaseUser, search: str = "") -> HomeGroups:
    """The person's projects under Label, Review and Manage, each with its task counts
    (``task_total``, ``task_open``, ``task_in_review``, ``task_accepted``, ``task_gold``) and,
    under Label, what the queue could still hand them (``waiting``). Three queries, plus two for
    the waiting figures when they label somewhere."""
    groups = HomeGroups()
    target = {
        Role.CONTRIBUTOR: groups.label,
        Role.REVIEWER: groups.review,
        Role.MANAGER: groups.manage,
    }
    projects = project_list_for_user(user=user, search=search)
    counts = task_counts_by_project(project_ids=[project.pk for project in projects])
    for project in projects:
        by_status = dict(counts[project.pk])
        project.task_gold = by_status.pop("gold", 0)
        project.task_total = sum(by_status.values())
        project.task_open = by_status.get("open", 0)
        project.task_in_review = by_status.get("in_review", 0)
        project.task_accepted = by_status.get("accepted", 0)
        for role in project.roles:  # a manager who also labels finds it under both
            if project.archived_at is not None and role == Role.CONTRIBUTOR:
                continue  # archived: no work here for contributors, so not under Label
            target[role].append(project)
    if groups.label:
        waiting = tasks_waiting_for_each(user=user, projects=groups.label)
        for project in groups.label:
            project.waiting = waiting[project.pk]
    return groups


@require_GET
@login_required
@vary_on_headers("HX-Request")  # the same URL answers the page or (to htmx's search) a part
def home(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "").strip()[:100]
    groups = home_groups_for_user(user=request.user, search=search)
    template = "home.html"
    if getattr(request, "htmx", False):
        template += "#project-groups"
    admin_of = [] if request.htmx else organizations_where_admin(user=request.user)
    context = {"groups": groups, "search": search, "can_create": bool(admin_of)}
    context["admin_of"] = admin_of  # the People page of each
    context["open_projects"] = [] if request.htmx else open_projects_for(user=request.user)
    return render(request, template, context)
