"""The storefront's browser tests (storefront/, issue 19): Debian's Chromium, driven by
Playwright's Python package, clicks and types through the pages of a server running in this
process on the demo marketplace, with every host but loopback unreachable.

Each test loads the demo (a few seconds) into the test database, committed, and
pytest-django's live server serves it on 127.0.0.1; the database is flushed after the test.
One Chromium serves the whole package, with a fresh context (storage, cookies) per tab. Under CI a missing browser
fails the run (tests/test_graphiql_browser.py has the same rule); elsewhere it skips.

Screenshots of the main pages at phone and desktop widths go to docs/screenshots/ (the
README and docs/storefront.md show them); set STOREFRONT_SCREENSHOTS to write elsewhere.
"""
import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.test_graphiql_browser import CHROMIUM, CHROMIUM_ARGS, _unavailable

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(os.environ.get("STOREFRONT_SCREENSHOTS") or ROOT / "docs" / "screenshots")
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 860}
DEMO_PASSWORD = "demo-pass-2026"


@pytest.fixture
def demo_site(transactional_db, live_server):
    """The demo marketplace served on loopback (pytest-django's live server, committed
    data): yields its origin ("http://127.0.0.1:port")."""
    from fixtures import demo

    demo._hash = None  # hash the demo password with this test's (fast) hasher
    try:
        demo.load()
    finally:
        demo._hash = None
    return live_server.url


@pytest.fixture(scope="package")
def chromium():
    # Playwright's sync API keeps an event loop on this thread; the ORM calls the tests make
    # for their setup are plain synchronous calls all the same.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        yield from _chromium()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def _chromium():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (pip install -e '.[test]')")
    if not os.path.exists(CHROMIUM):
        _unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium, or make test)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


class Site:
    """A browser tab on the demo site, with what went wrong recorded: requests to other
    hosts (aborted), failed requests, console errors; and the GraphQL requests made."""

    def __init__(self, browser, origin, viewport):
        self.origin = origin
        self.context = browser.new_context(viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai")
        self.context.set_default_timeout(45_000)  # generous: the whole suite shares 2 cores
        self.page = self.context.new_page()
        self.blocked, self.failed, self.errors, self.graphql = [], [], [], []
        allowed = urlsplit(origin).netloc

        def gate(route):
            url = route.request.url
            if url.startswith("data:") or urlsplit(url).netloc == allowed:
                route.continue_()
            else:
                self.blocked.append(url)
                route.abort("internetdisconnected")

        self.context.route("**/*", gate)
        self.page.on("requestfailed", lambda r: self.failed.append(r.url))
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: r.url.endswith("/graphql/") and self.graphql.append(r.post_data_json))

    def open(self, path):
        self.page.goto(self.origin + path)
        self.settled()
        return self.page

    def settled(self):
        """Wait until the page rendered (main is no longer busy)."""
        self.page.wait_for_selector("main[aria-busy=false]")
        return self.page

    def wait_url(self, pattern):
        """Wait until the address matches the regular expression (client-side navigation
        changes it with the History API, without a page load), then for the render."""
        self.page.wait_for_function("p => new RegExp(p).test(decodeURIComponent(location.href))", arg=pattern)
        return self.settled()

    def screenshot(self, name):
        """docs/screenshots/<name>-desktop.png and <name>-phone.png: the top of the page at
        both widths (the tab is resized for the phone shot, then back)."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        before = self.page.viewport_size
        for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
            self.page.set_viewport_size(size)
            self.page.evaluate("() => new Promise(r => { window.scrollTo(0, 0); "
                               "requestAnimationFrame(() => requestAnimationFrame(r)); })")
            self.page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"))
        self.page.set_viewport_size(before)

    def sign_in(self, email, password=DEMO_PASSWORD):
        page = self.open("/shop/signin")
        page.get_by_label("邮箱").fill(email)
        page.get_by_label("密码").fill(password)
        page.get_by_role("button", name="登录", exact=True).click()
        self.wait_url(r"^(?!.*/signin)")
        return page

    def assert_clean(self):
        assert self.blocked == [] and self.failed == [], (self.blocked, self.failed)
        assert self.errors == [], self.errors

    def close(self):
        self.context.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.browser_failed = report.failed
    return report


@pytest.fixture
def site(request, chromium, demo_site):
    """Open tabs: site() for desktop, site(phone=True) for a phone. When the test fails,
    each tab's screen is saved as $TMPDIR/storefront-failure-<test>-<n>.png."""
    import tempfile

    opened = []

    def make(phone=False):
        s = Site(chromium, demo_site, PHONE if phone else DESKTOP)
        opened.append(s)
        return s

    yield make
    for n, s in enumerate(opened):
        if getattr(request.node, "browser_failed", False):
            path = Path(tempfile.gettempdir()) / f"storefront-failure-{request.node.name}-{n}.png"
            try:
                s.page.screenshot(path=str(path), full_page=True)
                print(f"screenshot of the failure: {path}  errors: {s.errors}")
            except Exception:  # noqa: BLE001  (the page may be gone)
                pass
        s.close()


@pytest.fixture
def api(demo_site):
    """In-process GraphQL clients on the same database (to set up what a test is not about)."""
    from django.test import Client

    from marketplace.plugins.testing import GraphQLClient

    return lambda: GraphQLClient(Client())
