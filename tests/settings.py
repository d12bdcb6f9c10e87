"""Settings for the test suite: production settings with test-only conveniences.

DEBUG stays off, so the suite runs with the same security settings as production.
"""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "tests-only-secret-key")

from config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# TEST_MEDIA_ROOT: a worker process started by a test shares the live server's folder.
MEDIA_ROOT = os.environ.get("TEST_MEDIA_ROOT") or tempfile.mkdtemp(prefix="labelhub-test-media-")
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Background work runs at once, inside the test; the queue's concurrency test turns it off in its
# worker processes (TEST_TASKS_BACKEND), since it measures the queue alone.
TASKS = {
    "default": {
        "BACKEND": os.environ.get(
            "TEST_TASKS_BACKEND", "django.tasks.backends.immediate.ImmediateBackend"
        ),
        "QUEUES": ["default", "sandbox", "evals"],
    }
}
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
# Throttling has its own tests (test_login_throttling.py); elsewhere tests log in freely.
AXES_ENABLED = False
