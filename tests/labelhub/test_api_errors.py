"""One handler answers every refusal and every Django ValidationError of the API, the same way."""

from django.core.exceptions import ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from annotation.queue import ContributorPaused, DraftConflict
from appeals.services import AppealRefusal
from genai.services import LiveTurnRefused
from labelhub.refusals import Refusal
from quality.services import OwnAnswer


def answer_to(error: Exception):
    class Raising(APIView):
        authentication_classes = ()
        permission_classes = (AllowAny,)

        def post(self, request):
            raise error

    response = Raising.as_view()(APIRequestFactory().post("/", {}, format="json"))
    return response.status_code, response.data


def test_every_refusal_is_answered_with_its_message_code_and_status():
    assert answer_to(ContributorPaused("You are paused.")) == (
        403,
        {"detail": "You are paused.", "code": "paused"},
    )
    assert answer_to(DraftConflict("Changed elsewhere.", current_version=7)) == (
        409,
        {"detail": "Changed elsewhere.", "code": "conflict", "current_version": 7},
    )
    assert answer_to(OwnAnswer("Not your own.")) == (
        403,
        {"detail": "Not your own.", "code": "own_answer"},
    )
    assert answer_to(AppealRefusal("Decided.", code="decided")) == (
        409,
        {"detail": "Decided.", "code": "decided"},
    )
    assert answer_to(LiveTurnRefused("Too long.", status=400)) == (
        400,
        {"detail": "Too long.", "code": "live_refused"},
    )
    assert issubclass(LiveTurnRefused, Refusal)


def test_a_django_validation_error_is_a_400_by_field_path():
    error = ValidationError({"schema.labels.0.hotkey": ["A hotkey is a digit from 1 to 9."]})
    assert answer_to(error) == (
        400,
        {"schema.labels.0.hotkey": ["A hotkey is a digit from 1 to 9."]},
    )
    assert answer_to(ValidationError("Nothing to do.")) == (
        400,
        {"non_field_errors": ["Nothing to do."]},
    )
