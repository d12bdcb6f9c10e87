"""The API's version, sent on every answer under ``/api/`` as ``X-LabelHub-API-Version``.

``1.N``: the major number changes only if a route or a JSON shape ever had to break (never so
far); ``N`` grows with each addition, so a client can tell whether the server it talks to has a
feature (docs/api.md, *Changelog*, says what each one added).
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

API_VERSION = "1.3"
# The routes of this version (methods and paths of the OpenAPI schema, hashed): a test fails when
# they change while this stays, so a new route comes with a new version and a changelog line.
API_ROUTES_DIGEST = "c1ab497fff4d2994"
API_VERSION_HEADER = "X-LabelHub-API-Version"


class ApiVersionMiddleware:
    """Adds the version header to every API response, errors and 404s included."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith("/api/"):
            response[API_VERSION_HEADER] = API_VERSION
        return response
