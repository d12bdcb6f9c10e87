"""Sign-in through an organization's identity provider (OpenID Connect), people provisioned from it.

An organization's admins point LabelHub at their provider (*People → Sign-in*, or
``/api/v1/organizations/{slug}/sign-in/``): the issuer, a client id and secret, the email domains
that belong to them, and rules that turn the provider's groups into roles. People then sign in
with *Sign in with <provider>* on the log-in page (found by their address's domain) or at
``/login/<org-slug>/``. The protocol is Authlib's (discovery, JWKS with refetch on an unknown key,
``iss``/``aud``/``exp``/``nonce``/``state`` checks, PKCE); this app decides who the person is and
what they may do here.

The app sits above ``labelhub`` and ``people`` and uses their services (memberships, removal,
tokens, verified addresses); nothing below imports it. Its wiring in ``config/``: the installed
app, the middleware that re-checks a session with the provider, the backend that refuses passwords
where they are off, and its URLs (pages and SCIM, ahead of Django's auth URLs; the API's).
"""
