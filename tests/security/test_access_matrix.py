"""Access-control proof (issue 7): every routed URL, for every role, against the written matrix in
``access_matrix.py`` — including another class's and another school's objects."""

from __future__ import annotations

import json
import re

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from tests.security.access_matrix import ROLES, ROWS, Row
from tests.security.access_world import AccessWorld


def routed_names() -> set[str]:
    """Every URL pattern of the site, by its (namespaced) name; an unnamed pattern by its full path."""
    names: set[str] = set()

    def walk(resolver, prefix: str, namespace: str) -> None:
        for p in resolver.url_patterns:
            if isinstance(p, URLResolver):
                ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
                walk(p, prefix + str(p.pattern), ns)
            elif isinstance(p, URLPattern):
                names.add(f"{namespace}{p.name}" if p.name else f"<unnamed> {prefix}{p.pattern}")

    walk(get_resolver(), "", "")
    return names


def test_every_route_is_in_the_matrix():
    """A new URL cannot ship without someone writing down who may use it, and the matrix names no route
    that is gone."""
    routed = routed_names()
    in_matrix = {row.route for row in ROWS}
    missing, stale = sorted(routed - in_matrix), sorted(in_matrix - routed)
    assert not missing, "routes missing from tests/security/access_matrix.py: " + ", ".join(missing)
    assert not stale, "access_matrix.py names routes that no longer exist: " + ", ".join(stale)
    for row in ROWS:
        row.outcomes()  # ten cells, one per role


def _outcome(response) -> str:
    if response.status_code in (301, 302, 303):
        return "L" if response["Location"].startswith(reverse("login")) else "302"
    return str(response.status_code)


class Walker:
    """One logged-in client per role (a bearer token per role for the API); each request runs in a
    transaction that is rolled back, so a POST that an allowed role gets through changes nothing the
    next request sees."""

    def __init__(self, world: AccessWorld):
        self.world = world
        self.clients: dict[str, Client] = {}
        for role in ROLES:
            self.clients[role] = self._client(role)

    def _client(self, role: str) -> Client:
        client = Client()
        user = self.world.users[role]
        if user is not None:
            client.force_login(user)
        return client

    def get(self, row: Row, role: str) -> str:
        query = row.query(self.world) if callable(row.query) else row.query
        url = reverse(row.route, kwargs=row.kwargs(self.world)) + (f"?{query}" if query else "")
        client = self._client(role) if row.route == "logout" else self.clients[role]
        extra = {}
        if row.api and role in self.world.tokens:
            extra["HTTP_AUTHORIZATION"] = f"Bearer {self.world.tokens[role]}"
        cache.clear()  # the public portal's per-address limits would otherwise count every role's requests
        try:
            with transaction.atomic():
                if row.body is not None or (row.api and row.method in ("POST", "PATCH")):
                    body = json.dumps(row.body(self.world) if row.body else {})
                    response = client.generic(row.method, url, body, content_type="application/json", **extra)
                elif row.form is not None:
                    response = client.post(url, row.form(self.world), **extra)
                else:
                    response = client.generic(row.method, url, **extra)
                transaction.set_rollback(True)
        except Exception as exc:  # noqa: BLE001 - a crash is a finding too; the failure names it
            return f"EXC:{type(exc).__name__}"
        return _outcome(response)


@pytest.fixture
def world(settings, tmp_path):
    settings.HOCBA_DOCUMENTS_DIR = str(tmp_path / "documents")
    settings.HOCBA_RECORDS_INLINE = True
    settings.HOCBA_SECTOR_URL = ""
    # Sessions in signed cookies save two queries per request (a quarter of the walk's time); where a
    # session is stored has no say in who may open what.
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
    return AccessWorld()


def test_access_matrix(db, world):
    """Each role gets exactly what the written matrix says on every route: a teacher of 6A cannot read
    6B's grade book, school A's staff cannot see or change school B's objects (not even through school A's
    URLs), a parent sees only their own child, anonymous visitors are sent to the login page, and the
    public portal stays public."""
    walker = Walker(world)
    failures = []
    for row in ROWS:
        want = row.outcomes()
        got = {role: walker.get(row, role) for role in ROLES}
        if got != want:
            wrong = [f"{role}: want {want[role]} got {got[role]}" for role in ROLES
                     if got[role] != want[role]]
            failures.append(f"{row.label} [{row.method} {row.route}]\n"
                            f"    observed: \"{' '.join(got[r].ljust(3) for r in ROLES).rstrip()}\"\n"
                            f"    {'; '.join(wrong)}")
    assert not failures, f"{len(failures)} rows differ from the access matrix:\n" + "\n".join(failures)


def test_lists_show_only_what_the_role_may_see(db, world):
    """The pages that list things list only what the role may open: a parent's home and học bạ page show
    their own child and not another pupil; the district's home lists its own Phòng's school and not the
    other Phòng's; a teacher's home and học bạ page show their class and not the neighbouring one; school
    A's admin never sees school B's name."""
    walker = Walker(world)

    def page(role, name):
        response = walker.clients[role].get(reverse(name))
        assert response.status_code == 200, (role, name)
        return response.content.decode()

    for name in ("home", "records_index"):
        text = page("parent", name)
        assert world.s1.full_name in text
        assert world.s2.full_name not in text and world.s3.full_name not in text
    text = page("district", "home")
    assert world.a.name in text and world.b.name not in text
    for role in ("homeroom_teacher", "subject_teacher"):
        for name in ("home", "records_index"):
            text = page(role, name)
            # whole words: a random CSRF token in the page may contain "6B" or "6C"
            shown = set(re.findall(r"\b6[ABC]\b", text))
            assert shown == {"6A"}, (role, name, shown)
    for name in ("home", "records_index", "audit_index", "digitise_index"):
        response = walker.clients["school_admin"].get(reverse(name), follow=True)
        assert response.status_code == 200 and world.b.name not in response.content.decode(), name
