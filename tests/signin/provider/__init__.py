"""A real OpenID provider for the sign-in tests: django-oauth-toolkit's, in its own process.

:mod:`tests.signin.idp` starts it on a free loopback port with its own SQLite database. The
test drives it through ``/control/`` (loopback only, behind a token it is started with): people,
their groups and whether their address is verified, client applications, a key rotation, and
claims the next ID tokens carry on purpose wrong (an audience, an expiry, a nonce) so that the
refusals are tested with tokens a real provider signed.
"""
