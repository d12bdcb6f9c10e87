"""Sign-in through an organization's identity provider (OpenID Connect), people provisioned from it.

An organization's admins point LabelHub at their provider (*People → Sign-in*, or
``/api/v1/organizations/{slug}/sign-in/``): the issuer, a client id and secret, the email domains
that belong to them, and rules that turn the provider's groups into roles. People then sign in
with *Sign in with <provider>* on the log-in page (found by their address's domain) or at
``/login/<org-slug>/``. The protocol is Authlib's (discovery, JWKS with refetch on an unknown key,
``iss``/``aud``/``exp``/``nonce``/``state`` checks, PKCE); this app decides who the person is and
what they may do here.

The app sits above ``labelhub`` and uses its services (memberships, tokens, audit); nothing below
imports it. Its wiring is three lines: the installed app, the middleware that re-checks a signed-in
session with the provider, and its URLs.
"""
