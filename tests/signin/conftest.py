import pytest

from signin.models import ProviderConfig
from tests.e2e.conftest import _no_console_errors, console_errors  # noqa: F401 (browser tests)
from tests.factories import make_organization, make_user
from tests.signin.idp import IdentityProvider

CLIENT_ID = "labelhub"
CLIENT_SECRET = "s3cr3t-client-value-7d1f0c9b"


@pytest.fixture(autouse=True)
def _provider_on_loopback(settings):
    """The test provider runs on loopback: allowed here as an on-premise one would be."""
    settings.SIGNIN_ALLOW_PRIVATE_ADDRESSES = True


@pytest.fixture(scope="session")
def idp(tmp_path_factory):
    """One real OpenID provider for the whole run, on a loopback port, in its own process."""
    provider = IdentityProvider(tmp_path_factory.mktemp("idp")).start()
    yield provider
    provider.stop()


@pytest.fixture
def idp_clean(idp):
    """The provider with no deliberately wrong claims and its usual token lifetimes."""
    idp.control("tamper", claims={})
    yield idp
    idp.control("tamper", claims={})
    idp.control("lifetimes")
    idp.control("freeze_jwks", freeze=False)


@pytest.fixture
def acme(db):
    organization = make_organization("Acme")
    admin = make_user("acme-admin", organization=organization)
    organization.members.filter(user=admin).update(is_admin=True)
    return organization


def connect(idp, organization, *, base_url: str, **overrides) -> ProviderConfig:
    """Register LabelHub at the provider and configure the organization to use it."""
    idp.application(CLIENT_ID, CLIENT_SECRET, [f"{base_url}/login/{organization.slug}/callback/"])
    fields = {
        "display_name": "Acme SSO",
        "issuer": idp.issuer,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "scopes": "openid email profile groups",
        "allowed_domains": ["acme.test"],
        **overrides,
    }
    config, _ = ProviderConfig.objects.update_or_create(organization=organization, defaults=fields)
    return config


def database_text() -> str:
    """Every row of every table as the database holds it (what a dump or a backup holds)."""
    from django.db import connection

    rows = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            rows.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(rows)
