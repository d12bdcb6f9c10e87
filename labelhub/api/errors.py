"""Turning domain errors into the API's JSON errors: field paths as keys, messages as lists."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import ValidationError


def as_api_error(error: DjangoValidationError) -> ValidationError:
    """``{"schema.labels.0.hotkey": ["A hotkey is a digit from 1 to 9."]}`` as a 400."""
    if hasattr(error, "error_dict"):
        return ValidationError(error.message_dict)
    return ValidationError({"non_field_errors": error.messages})
