import shutil

import pytest


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Drive the system's Chromium (Debian's package); Playwright's own download is not needed."""
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    args = {
        **browser_type_launch_args,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }
    if executable:
        args["executable_path"] = executable
    return args


def pytest_collection_modifyitems(config, items):
    """Tests marked ``postgres`` need row locks and real concurrency: skip them on SQLite."""
    from django.conf import settings

    from tests.objectstore import MEDIA_TEST_FILES

    for item in items:
        if item.nodeid.split("::")[0] in MEDIA_TEST_FILES:
            item.add_marker(pytest.mark.media)
    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Every test starts with an empty cache: rate-limit counters are keyed by user id, and ids
    come round again once a test's transaction is rolled back."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(scope="session", autouse=True)
def _configured_bucket():
    """With MEDIA_STORAGE=s3 (CI's run against a real S3 server) the configured bucket exists."""
    from tests.objectstore import ensure_configured_bucket

    ensure_configured_bucket()
