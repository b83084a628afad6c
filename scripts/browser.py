#!/usr/bin/env python3
"""The headless browser the test suite drives (tests/test_graphiql_browser.py).

    python3 scripts/browser.py install   # Debian's chromium via apt-get when missing (idempotent)
    python3 scripts/browser.py check     # exit 1 unless /usr/bin/chromium runs

`make test` runs `install`. The browser is Debian's `chromium` package, driven by
Playwright's Python package with `executable_path`; a tool's own browser download
(`playwright install`) is never used. Standard library only, like localservices.py, whose
apt helper (one apt-get, an update only when needed) it reuses.
"""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import localservices  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
# A CJK font so the storefront's screenshots (tests/browser/) show Chinese text, not boxes.
PACKAGES = ["chromium", "fonts-wqy-microhei"]


def version() -> str | None:
    """Chromium's version line, or None when it is missing or does not run."""
    try:
        out = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    line = next((l for l in out.stdout.splitlines() if l.startswith("Chromium")), None)
    return line if out.returncode == 0 and line else None


def install() -> str:
    if not localservices.apt_packages_installed(PACKAGES) or version() is None:
        (localservices.logs_dir()).mkdir(parents=True, exist_ok=True)
        t0 = time.monotonic()
        localservices.apt_install("browser", PACKAGES)
        localservices.say("browser", f"chromium installed in {time.monotonic() - t0:.1f}s")
    found = version()
    if found is None:
        raise localservices.ServiceError("browser", f"{CHROMIUM} does not run after installing {PACKAGES}")
    return found


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv else "install"
    if command == "check":
        found = version()
        print(found or f"no working Chromium at {CHROMIUM}", file=sys.stdout if found else sys.stderr)
        return 0 if found else 1
    if command != "install":
        print("usage: browser.py install|check", file=sys.stderr)
        return 2
    try:
        localservices.say("browser", install())
    except localservices.ServiceError as exc:
        print(f"browser: {exc.message}", file=sys.stderr)
        text = localservices.tail(exc.log)
        if text:
            print(text, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
