from django.apps import AppConfig


class PeopleConfig(AppConfig):
    """Members, invitations, skills and profiles, content preferences: their pages and API.

    The models stay in ``labelhub`` with their tables (``labelhub_organizationmember``,
    ``labelhub_invitation``, ``labelhub_skill`` …): this app holds the code that works on them.
    """

    name = "people"
    verbose_name = "People"
