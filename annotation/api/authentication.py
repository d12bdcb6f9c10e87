"""The API's token authentication (hashed tokens, one query): see ``labelhub.authentication``."""

from labelhub.authentication import HashedTokenAuthentication as QueueTokenAuthentication

__all__ = ["QueueTokenAuthentication"]
