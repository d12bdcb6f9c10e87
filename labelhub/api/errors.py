"""The API's one exception handler, and domain errors as the API's JSON errors.

Views do not catch what services raise: a :class:`labelhub.refusals.Refusal` becomes
``{"detail", "code", …}`` with its status, and Django's ``ValidationError`` becomes a 400 whose keys
are the field paths (``{"schema.labels.0.hotkey": ["A hotkey is a digit from 1 to 9."]}``), here,
once, for every API view.
"""

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from labelhub.api.throttling import api_exception_handler as throttling_exception_handler
from labelhub.refusals import Refusal


def as_api_error(error: DjangoValidationError) -> ValidationError:
    """``{"schema.labels.0.hotkey": ["A hotkey is a digit from 1 to 9."]}`` as a 400."""
    if hasattr(error, "error_dict"):
        return ValidationError(error.message_dict)
    return ValidationError({"non_field_errors": error.messages})


def api_exception_handler(exc, context):
    """The API's one exception handler (``REST_FRAMEWORK["EXCEPTION_HANDLER"]``).

    A refusal answers with its own body and status; a Django ``ValidationError`` as the DRF one
    it means; a body over the upload limit or other suspicious input as a JSON 400 (Django would
    answer those with its HTML 400 page); everything else goes to the throttling-aware handler of
    :mod:`labelhub.api.throttling` (DRF's, with ``retry_after`` on a 429)."""
    if isinstance(exc, Refusal):
        return Response(exc.as_dict(), status=exc.status)
    if isinstance(exc, DjangoValidationError):
        exc = as_api_error(exc)
    if isinstance(exc, RequestDataTooBig):
        return Response(
            {"detail": "The request is too large: send fewer tasks per request, or a file."},
            status=400,
        )
    if isinstance(exc, SuspiciousOperation):
        return Response({"detail": "The request was refused as malformed."}, status=400)
    return throttling_exception_handler(exc, context)
