"""Request parsing that refuses hostile bodies with a 400 instead of failing with a 500."""

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from labelhub.api.throttling import api_exception_handler as throttling_exception_handler


class SafeJSONParser(JSONParser):
    """DRF's JSON parser, with nesting too deep for Python's decoder refused as a parse error."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type=media_type, parser_context=parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the JSON is nested too deeply.") from None


def api_exception_handler(exc, context):
    """The API's one exception handler: a JSON 400 for bodies over the upload limit and other
    suspicious input (Django would answer those with its HTML 400 page), then the throttling-aware
    handler of :mod:`labelhub.api.throttling` for everything else."""
    if isinstance(exc, RequestDataTooBig):
        return Response(
            {"detail": "The request is too large: send fewer tasks per request, or a file."},
            status=400,
        )
    if isinstance(exc, SuspiciousOperation):
        return Response({"detail": "The request was refused as malformed."}, status=400)
    return throttling_exception_handler(exc, context)
