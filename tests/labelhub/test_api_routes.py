"""Every route of the URLconf is registered once, so no view is shadowed by another."""

from collections import Counter

from django.urls import URLPattern, URLResolver, get_resolver, resolve


def _routes(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _routes(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


def test_every_path_is_registered_once():
    counts = Counter(route for route, _ in _routes(get_resolver().url_patterns))
    repeated = {route: n for route, n in counts.items() if n > 1}
    assert repeated == {}


def test_the_task_api_is_the_one_with_answers_and_reviews():
    from quality.api.task_detail import TaskDetailApi

    assert resolve("/api/v1/tasks/1/").func.view_class is TaskDetailApi
