# The browser tests here use the e2e fixtures (a live server, the preview, console errors).
from tests.e2e.conftest import _no_console_errors, console_errors, open_preview  # noqa: F401
