"""Pause points for the killed-worker test (tests/test_killed_worker.py).

`checkpoint(name)` does nothing unless the environment variable `GROUP_BUY_PAUSE_AT`
names it: then the process writes the file `<GROUP_BUY_PAUSE_DIR>/<name>` and blocks until
it is killed, so a test can SIGKILL a real worker process at an exact step of settlement
(after an intent was committed, before or after a gateway call) and restart it. Setting
`GROUP_BUY_PAUSE_AT` with MARKETPLACE_ENV=production refuses to start.
"""
import os
import time

PAUSE_AT = "GROUP_BUY_PAUSE_AT"
PAUSE_DIR = "GROUP_BUY_PAUSE_DIR"


def check_environment():
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    if os.environ.get(PAUSE_AT) and settings.IS_PRODUCTION:
        raise ImproperlyConfigured(f"{PAUSE_AT} is a test switch: unset it in production.")


def checkpoint(name):
    """Block here forever (until killed) when the environment asks to pause at `name`."""
    if os.environ.get(PAUSE_AT) != name:
        return
    directory = os.environ.get(PAUSE_DIR) or "/tmp"
    with open(os.path.join(directory, name), "w") as marker:
        marker.write(str(os.getpid()))
    while True:  # pragma: no cover - ends with SIGKILL
        time.sleep(3600)
