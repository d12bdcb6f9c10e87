"""Sign in headless: the Django test client is LabelHub's browser, ``requests`` the provider's."""

from urllib.parse import urlsplit

import requests
from django.test import Client


def to_provider(client: Client, slug: str) -> str:
    """LabelHub's redirect to the provider's authorization endpoint."""
    response = client.get(f"/login/{slug}/")
    assert response.status_code == 302, response.content
    return response["Location"]


def provider_answer(at_provider: requests.Session, authorize_url: str) -> str:
    """The provider's redirect back to LabelHub (path and query), for a signed-in person."""
    response = at_provider.get(authorize_url, allow_redirects=False, timeout=10)
    assert response.status_code == 302, response.text
    back = urlsplit(response.headers["Location"])
    assert "code=" in back.query, response.headers["Location"]
    return f"{back.path}?{back.query}"


def sign_in(client: Client, at_provider: requests.Session, slug: str):
    """The whole round trip; LabelHub's answer to the return from the provider."""
    return client.get(provider_answer(at_provider, to_provider(client, slug)))
