"""LabelHub's Python client: ``Client(url, token)`` or ``Client()`` with ``LABELHUB_URL`` and
``LABELHUB_TOKEN`` set. See ``docs/client.md`` in the LabelHub repository."""

__version__ = "0.1.0"

from labelhub_client.client import (
    Client,
    ExportDownload,
    ImportJob,
    Project,
    ResultFeed,
    WorkItem,
)
from labelhub_client.errors import (
    AuthenticationFailed,
    Conflict,
    ConnectionFailed,
    ImportFailed,
    ImportProblem,
    JobFailed,
    LabelHubError,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServerError,
    ValidationFailed,
)

__all__ = [
    "AuthenticationFailed",
    "Client",
    "Conflict",
    "ConnectionFailed",
    "ExportDownload",
    "ImportFailed",
    "ImportJob",
    "ImportProblem",
    "JobFailed",
    "LabelHubError",
    "NotFound",
    "PermissionDenied",
    "Project",
    "RateLimited",
    "ResultFeed",
    "ServerError",
    "ValidationFailed",
    "WorkItem",
]
