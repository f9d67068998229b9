"""Browser tests: real headless Chromium (Debian's `chromium` package, never a browser downloaded
by Playwright) driven by Playwright's sync API against pytest-django's live server.

    def test_something(logged_in_page: Tab) -> None:
        logged_in_page.visit(reverse("dashboard:customers"), "customers")   # + a screenshot
        logged_in_page.page.get_by_role("link", name="…").click()
        logged_in_page.shot("customer")

Every tab records console errors, uncaught page errors and dialogs; a test fails at teardown
if any were recorded that it did not declare with `tab.expect_console_error(pattern)`.
Screenshots go to test-artifacts/screenshots/<test-name>/<n>-<slug>.png (repo root, ignored by
git), numbered in the order they were taken.

Chromium comes from AFTERCARE_CHROMIUM (default /usr/bin/chromium). Without it the tests skip —
unless AFTERCARE_REQUIRE_BROWSER is set (scripts/test sets it), then they fail: CI never skips
them silently.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.urls import reverse
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Dialog,
    Page,
    Response,
    ViewportSize,
    sync_playwright,
)
from playwright.sync_api import Error as PlaywrightError

from aftercare.stores import services as store_services
from aftercare.stores.models import StaffRole, Store

REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO_ROOT / "test-artifacts" / "screenshots"
CHROMIUM = os.environ.get("AFTERCARE_CHROMIUM", "/usr/bin/chromium")
PASSWORD = "correct horse battery staple"

DESKTOP = ViewportSize(width=1280, height=800)
TABLET = ViewportSize(width=820, height=1180)
PHONE = ViewportSize(width=390, height=844)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.browser)


def _chromium_available() -> bool:
    path = shutil.which(CHROMIUM) or CHROMIUM
    return Path(path).is_file() and os.access(path, os.X_OK)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    if not _chromium_available():
        reason = (
            f"Chromium not found at {CHROMIUM} (set AFTERCARE_CHROMIUM, or install Debian's "
            "package: apt-get install chromium; scripts/test does this)"
        )
        if os.environ.get("AFTERCARE_REQUIRE_BROWSER"):
            pytest.fail(f"AFTERCARE_REQUIRE_BROWSER is set but {reason}")
        pytest.skip(reason)
    # Playwright's sync API runs an asyncio event loop in this (the main) thread for as long as
    # Playwright is started, so Django sees "a running event loop" and refuses ORM calls made
    # by the test body and by pytest-django's flush (SynchronousOnlyOperation). Those calls are
    # ordinary synchronous code: no coroutine ever runs concurrently with them, the loop only
    # idles between Playwright calls, and the live server answers from its own thread. So the
    # guard is a false positive here, and we lift it exactly while Playwright runs.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        args = ["--no-sandbox"] if os.geteuid() == 0 else []  # the sandbox refuses root
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
        yield browser
        browser.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def _slug(text: str, limit: int = 60) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:limit] or "page"


@dataclass
class Shots:
    """Numbered screenshots of one test, in test-artifacts/screenshots/<test-name>/."""

    folder: Path
    taken: list[Path] = field(default_factory=list)

    def take(self, page: Page, slug: str) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{len(self.taken) + 1:02d}-{_slug(slug)}.png"
        page.screenshot(path=str(path), full_page=True)
        self.taken.append(path)
        return path


@dataclass
class Tab:
    """A Playwright page plus what it saw: console errors, page errors, dialogs."""

    page: Page
    base_url: str
    shots: Shots
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    expected_console: list[re.Pattern[str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        self.page.on("dialog", self._on_dialog)

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.console_errors.append(f"{message.text} ({message.location.get('url', '')})")

    def _on_dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    @property
    def context(self) -> BrowserContext:
        return self.page.context

    def url(self, path: str) -> str:
        return path if path.startswith("http") else self.base_url + path

    def visit(self, path: str, slug: str | None = None) -> Response:
        """Open `path` (a URL path or absolute URL), wait for the page to settle, screenshot."""
        response = self.page.goto(self.url(path), wait_until="load")
        assert response is not None, f"no response for {path}"
        self.settle()
        self.shot(slug or path)
        return response

    def settle(self) -> None:
        with contextlib.suppress(PlaywrightError):  # a polling page never idles; "load" did
            self.page.wait_for_load_state("networkidle", timeout=5_000)

    def shot(self, slug: str) -> Path:
        return self.shots.take(self.page, slug)

    def expect_console_error(self, pattern: str) -> None:
        """Declare a console error this test provokes on purpose (e.g. a 404 page load)."""
        self.expected_console.append(re.compile(pattern))

    def unexpected_console_errors(self) -> list[str]:
        # Chromium asks for /favicon.ico on its own when a page declares no icon; that one is
        # checked by its own test (test_crawl.py), so it does not drown every other report.
        return [
            e
            for e in self.console_errors
            if not e.endswith("/favicon.ico)")
            and not any(p.search(e) for p in self.expected_console)
        ]

    def assert_clean(self) -> None:
        assert not self.page_errors, f"uncaught JavaScript errors: {self.page_errors}"
        assert not self.unexpected_console_errors(), (
            f"console errors: {self.unexpected_console_errors()}"
        )
        assert not self.dialogs, f"dialogs opened: {self.dialogs}"

    def login(self, *, login: str, password: str = PASSWORD) -> None:
        """Sign in through the real form and wait until the dashboard answered."""
        self.visit(reverse("dashboard:login"), "login")
        self.page.get_by_label("Email or username").fill(login)
        self.page.get_by_label("Password").fill(password)
        with self.page.expect_navigation():
            self.page.get_by_role("button", name="Sign in").click()
        self.settle()


OpenTab = Callable[..., Tab]


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Shots:
    folder = SCREENSHOTS / _slug(request.node.name, limit=150)
    shutil.rmtree(folder, ignore_errors=True)  # only this run's pictures
    return Shots(folder=folder)


@pytest.fixture
def open_tab(chromium: Browser, live_server: Any, shots: Shots) -> Iterator[OpenTab]:
    """`open_tab(viewport=DESKTOP, locale="en-US", bypass_csp=False)`: a fresh browser context
    (own cookies) with one page. Every tab must end the test without console errors, page
    errors or dialogs."""
    tabs: list[Tab] = []

    def open_(
        *, viewport: ViewportSize = DESKTOP, locale: str = "en-US", bypass_csp: bool = False
    ) -> Tab:
        # bypass_csp: for audits that inject a script (axe) into pages whose CSP forbids any.
        context = chromium.new_context(
            viewport=viewport, locale=locale, base_url=live_server.url, bypass_csp=bypass_csp
        )
        context.set_default_timeout(15_000)
        tab = Tab(page=context.new_page(), base_url=live_server.url, shots=shots)
        tabs.append(tab)
        return tab

    yield open_
    for tab in tabs:
        tab.context.close()
    for tab in tabs:
        tab.assert_clean()


@pytest.fixture
def tab(open_tab: OpenTab) -> Tab:
    return open_tab()


StaffMaker = Callable[..., AbstractBaseUser]


@pytest.fixture
def make_staff(transactional_db: None) -> StaffMaker:
    """`make_staff(store=s, email="…", role=StaffRole.MANAGER)` → a user with PASSWORD."""

    def make(*, store: Store, email: str, role: StaffRole = StaffRole.OWNER) -> AbstractBaseUser:
        return store_services.create_staff_member(
            store=store, email=email, password=PASSWORD, role=role
        ).user

    return make


@pytest.fixture
def shop_store(transactional_db: None) -> Store:
    return store_services.create_store(
        slug="acme", name="Acme Outfitters", currency="USD", time_zone="America/New_York"
    )


@pytest.fixture
def owner_email(shop_store: Store, make_staff: StaffMaker) -> str:
    make_staff(store=shop_store, email="owner@acme.example", role=StaffRole.OWNER)
    return "owner@acme.example"


@pytest.fixture
def logged_in_page(tab: Tab, owner_email: str) -> Tab:
    """A desktop tab signed in (through the login form) as the owner of `shop_store`."""
    tab.login(login=owner_email)
    assert tab.page.url.rstrip("/").endswith(reverse("dashboard:overview").rstrip("/"))
    return tab
