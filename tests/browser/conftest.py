"""Playwright (Python) driving Debian's chromium, headless, against the live test server on 127.0.0.1."""

from __future__ import annotations

import os
import shutil

import pytest

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    # Playwright's sync API runs an event loop in this thread while it is open; the ORM calls the tests
    # make around it are still synchronous and safe. Module scope closes the loop after each browser
    # module, so later tests that call asyncio.run() (pyHanko) are not inside a running loop.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, settings):
    # Playwright evaluates wait_for_function's predicate as a string inside the page, which the site's
    # Content-Security-Policy forbids; allow only that ('unsafe-eval'), so that every journey still runs
    # under the rest of the real policy (same-origin scripts and fetches, inline handlers, htmx).
    settings.HOCBA_CONTENT_SECURITY_POLICY = settings.HOCBA_CONTENT_SECURITY_POLICY.replace(
        "script-src 'self'", "script-src 'self' 'unsafe-eval'", 1)
    context = browser.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh")
    context.set_default_timeout(15000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def signin(page, live_server):
    """signin(username, password): log in through the login form like a user would."""

    def _signin(username: str, password: str) -> None:
        page.goto(f"{live_server.url}/dang-nhap/")
        page.get_by_label("Tên đăng nhập").fill(username)
        page.get_by_label("Mật khẩu").fill(password)
        page.get_by_role("button", name="Đăng nhập").click()
        page.wait_for_load_state("domcontentloaded")

    return _signin


@pytest.fixture
def signout(page):
    def _signout() -> None:
        page.get_by_role("button", name="Đăng xuất").click()
        page.wait_for_load_state("domcontentloaded")

    return _signout
