"""Issue 7, the rest of the access-control proof: security headers on every kind of answer, CSRF on every
state-changing form, the session cookie's flags, and login throttling shared by the web form and the API."""

from __future__ import annotations

import json
import runpy
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from tests.security.access_matrix import ROLES, ROWS
from tests.security.access_world import AccessWorld

import hocba.web.settings as settings_module

PASSWORD = "MatKhau@2026"
REFUSALS = {"L", "403", "404", "405"}


@pytest.fixture
def world(settings, tmp_path):
    settings.HOCBA_DOCUMENTS_DIR = str(tmp_path / "documents")
    return AccessWorld()


def _logged_in(user, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def test_every_kind_of_answer_carries_the_security_headers(db, world):
    """Pages, refusal and not-found pages, JSON, downloaded files and the public portal all forbid MIME
    sniffing, framing and leaking the URL to other sites; every HTML page carries a Content-Security-Policy
    that admits only this site's scripts, styles and form targets, no plugins and no framing."""
    anonymous, parent = Client(), _logged_in(world.parent)
    answers = {
        "login page": anonymous.get(reverse("login")),
        "public portal": anonymous.get(reverse("verify:portal")),
        "refusal page": parent.get(reverse("class_detail", args=[world.c6b.pk])),
        "not-found page": parent.get("/khong-co-trang-nay/"),
        "home page": parent.get(reverse("home")),
        "downloaded PDF": parent.get(reverse("records_download", args=[world.record_s1.record_id, "pdf"])),
        "API JSON": anonymous.get(reverse("api:assignments"),
                                  HTTP_AUTHORIZATION=f"Bearer {world.tokens['subject_teacher']}"),
        "API refusal": anonymous.get(reverse("api:assignments")),
    }
    assert [answers[k].status_code for k in answers] == [200, 200, 403, 404, 200, 200, 200, 401]
    for what, response in answers.items():
        assert response["X-Content-Type-Options"] == "nosniff", what
        assert response["X-Frame-Options"] == "DENY", what
        assert response["Referrer-Policy"] == "same-origin", what
        if response["Content-Type"].startswith("text/html"):
            policy = {d.split()[0]: d.split()[1:] for d in response["Content-Security-Policy"].split("; ")}
            assert policy["default-src"] == ["'self'"], what
            assert policy["frame-ancestors"] == ["'none'"] and policy["object-src"] == ["'none'"], what
            assert policy["form-action"] == ["'self'"] and policy["base-uri"] == ["'self'"], what
            sources = [s for values in policy.values() for s in values]
            assert not [s for s in sources if s.startswith(("http", "*")) or s == "'unsafe-eval'"], what
        else:
            assert "Content-Security-Policy" not in response, what  # a PDF opened in the viewer is not a page


def test_a_post_without_the_csrf_token_changes_nothing(db, world):
    """Every form and save endpoint that the matrix lets some role use refuses a POST without the CSRF
    token, for that very role (a page on another site cannot submit it in the user's name), and nothing
    is written. The JSON API is exempt only because it ignores the session (next test)."""
    from hocba.audit.models import AuditEvent

    clients: dict[str, Client] = {}
    checked, failures = [], []
    events = AuditEvent.objects.count()
    for row in ROWS:
        if row.api or row.method != "POST":
            continue
        outcomes = row.outcomes()
        role = next((r for r in ROLES if outcomes[r] not in REFUSALS), None)
        if row.route == "logout":
            role = "parent"  # logout answers with the login page for everyone
        if role is None:
            continue
        if role not in clients:
            user = world.users[role]
            clients[role] = _logged_in(user, enforce_csrf_checks=True) if user else \
                Client(enforce_csrf_checks=True)
        url = reverse(row.route, kwargs=row.kwargs(world))
        if row.body is not None:
            response = clients[role].post(url, json.dumps(row.body(world)), content_type="application/json")
        else:
            response = clients[role].post(url, row.form(world) if row.form else {})
        checked.append(row.route)
        if response.status_code != 403 or b"CSRF" not in response.content:
            failures.append(f"{row.label} [{row.route}] as {role}: {response.status_code}")
    assert not failures, "POSTs accepted without a CSRF token:\n" + "\n".join(failures)
    assert AuditEvent.objects.count() == events
    assert {"login", "logout", "gb_column_save", "school_years", "records_revoke", "digitise_create",
            "verify:portal", "interop_sync_now"} <= set(checked)
    assert clients["parent"].get(reverse("home")).status_code == 200  # still logged in


def test_the_api_ignores_the_browser_session(db, world):
    """A logged-in browser does not authenticate the JSON API: without a bearer token a request gets 401,
    which is why the API needs no CSRF token."""
    browser = _logged_in(world.gvbm)
    assert browser.get(reverse("api:assignments")).status_code == 401
    url = reverse("api:scores", args=[world.c6a.pk, "TO", 2])
    body = {"edits": [{"student_id": world.s1.pk, "slot": "gk", "old": "", "new": "9.0"}]}
    assert browser.patch(url, json.dumps(body), content_type="application/json").status_code == 401


def test_the_session_cookie_is_http_only_and_same_site(db, world):
    """The session cookie a real login sets cannot be read by scripts and is not sent on cross-site
    requests; nor is the CSRF cookie."""
    client = Client()
    client.get(reverse("login"))
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    response = client.post(reverse("login"), {"username": world.principal.username, "password": PASSWORD,
                                              "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    session = response.cookies[settings.SESSION_COOKIE_NAME]
    assert session["httponly"] and session["samesite"] == "Lax"
    assert client.cookies[settings.CSRF_COOKIE_NAME]["samesite"] == "Lax"


@pytest.mark.parametrize("https", ["1", ""])
def test_cookies_are_secure_when_served_over_https(monkeypatch, tmp_path, https):
    """With HOCBA_HTTPS=1 (production behind HTTPS) the session and CSRF cookies are marked Secure, so they
    never travel over plain HTTP; without it (a school's LAN demo) they are not, or nobody could log in."""
    monkeypatch.setenv("HOCBA_HTTPS", https)
    monkeypatch.setenv("HOCBA_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("HOCBA_DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite3'}")
    loaded = runpy.run_path(str(Path(settings_module.__file__)))
    assert loaded["SESSION_COOKIE_SECURE"] is loaded["CSRF_COOKIE_SECURE"] is (https == "1")
    assert loaded["SESSION_COOKIE_HTTPONLY"] is True
    assert loaded["SESSION_COOKIE_SAMESITE"] == loaded["CSRF_COOKIE_SAMESITE"] == "Lax"


def test_login_throttling_is_shared_by_the_web_form_and_the_api(db, world):
    """Guessing a password is throttled per user name whichever door is used: failures at the login form
    lock the API's token endpoint too, and failures at the API lock the form — even for the right
    password — while other users are not affected."""
    limit = settings.HOCBA_LOGIN_MAX_FAILURES
    form, api = Client(), Client()
    token_url = reverse("api:tokens")

    def api_login(username, password):
        return api.post(token_url, json.dumps({"username": username, "password": password}),
                        content_type="application/json")

    for _ in range(limit):
        form.post(reverse("login"), {"username": world.principal.username, "password": "sai-mat-khau"})
    assert api_login(world.principal.username, PASSWORD).status_code == 429
    assert api_login(world.vice.username, PASSWORD).status_code == 201

    for _ in range(limit):
        assert api_login(world.academic.username, "sai-mat-khau").status_code in (401, 429)
    page = form.post(reverse("login"), {"username": world.academic.username, "password": PASSWORD})
    assert page.status_code == 200 and "tạm khoá" in page.content.decode()
    assert "_auth_user_id" not in form.session
