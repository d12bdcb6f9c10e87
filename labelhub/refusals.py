"""One way to say no: :class:`Refusal`, the base of every refusal a person or a script is given.

A refusal is not an error: the action cannot be done now, and the message says why in words (the
queue has nothing for a paused contributor, a review lost a race, an appeal was already decided,
a live turn is too long). The queue's, the reviews', the appeals' and live mode's refusals derive
from it. The API's exception handler (``labelhub.api.errors.api_exception_handler``) answers any
of them once, as ``{"detail": message, "code": code}`` (plus what :meth:`Refusal.as_dict` adds)
with the refusal's status; the pages show the message.
"""


class Refusal(Exception):
    """``Refusal(message, *, code=..., status=...)``; a subclass sets its own defaults."""

    code = "refused"
    status = 409

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status

    def as_dict(self) -> dict:
        """The API's JSON body for this refusal."""
        return {"detail": self.message, "code": self.code}
