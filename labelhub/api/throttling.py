"""Rate limits on writes made with an API token.

Scripts with a token are the callers that can flood us; the browser (session) and reads are left
alone. The rate is ``API_WRITE_RATE`` (e.g. ``"600/min"``; ``"off"`` turns the limit off), counted
per user in the default cache — per process with the local-memory cache, shared by every worker
when ``REDIS_URL`` points the cache at Redis.
"""

from django.conf import settings
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import Throttled
from rest_framework.permissions import SAFE_METHODS
from rest_framework.throttling import SimpleRateThrottle


class TokenWriteThrottle(SimpleRateThrottle):
    scope = "token_write"

    def get_rate(self) -> str | None:
        rate = getattr(settings, "API_WRITE_RATE", "600/min")
        return None if not rate or rate == "off" else rate

    def allow_request(self, request, view) -> bool:
        # The rate is read per request, so a settings change (or a test) takes effect at once.
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view) -> str | None:
        if request.method in SAFE_METHODS:
            return None
        if not isinstance(request.successful_authenticator, TokenAuthentication):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class WriteRateExceeded(Throttled):
    default_detail = "Too many write requests with this API token."
    extra_detail_singular = "Try again in {wait} second."
    extra_detail_plural = "Try again in {wait} seconds."
    default_code = "rate_limited"


def api_exception_handler(exc, context):
    """DRF's handler, with throttling answered as ``{detail, code, retry_after}`` + Retry-After."""
    from rest_framework.views import exception_handler

    if isinstance(exc, Throttled) and not isinstance(exc, WriteRateExceeded):
        exc = WriteRateExceeded(wait=exc.wait)
    response = exception_handler(exc, context)
    if response is not None and isinstance(exc, WriteRateExceeded):
        response.data = {
            "detail": str(exc.detail),
            "code": exc.default_code,
            "retry_after": int(response.headers.get("Retry-After", 0)),
        }
    return response
