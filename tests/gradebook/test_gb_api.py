"""The JSON API: token authentication, a teacher's assignments, reading and saving a column (200, 400 with
the field named, 403 for another teacher's class, 409 with the newer value), the class summary, the
``hocba api-token`` command, and the OpenAPI document that describes all of it."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.test import Client
from django.urls import URLResolver

from hocba.api import actions as api_actions
from hocba.api.models import ApiToken
from hocba.audit.models import AuditEvent
from hocba.gradebook import actions
from hocba.gradebook.models import SubjectRow

SPEC_PATH = Path(api_actions.__file__).with_name("openapi.yaml")


@pytest.fixture
def spec():
    return yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))


@pytest.fixture
def cls(gb):
    return gb.make_class("6A1", students=3)


def api(user) -> Client:
    secret = api_actions.issue_token(user, user, label="kiểm thử").secret
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")


def scores_url(cls, code="TO", semester=1) -> str:
    return f"/api/v1/classes/{cls.pk}/subjects/{code}/semesters/{semester}/scores"


def patch(client, url, edits):
    return client.patch(url, data=json.dumps({"edits": edits}), content_type="application/json")


def assert_matches(spec, name: str, instance) -> None:
    """The answer matches the component schema ``name`` of the OpenAPI document."""
    from openapi_schema_validator import OAS30Validator

    OAS30Validator({"components": spec["components"], "$ref": f"#/components/schemas/{name}"}).validate(instance)


# --- authentication --------------------------------------------------------------------------------------

def test_requests_without_a_valid_bearer_token_are_refused_and_sessions_are_not_accepted(gb, cls):
    assert Client().get("/api/v1/assignments").status_code == 401
    session = Client()
    session.force_login(gb.gvbm)
    response = session.get("/api/v1/assignments")
    assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Bearer")
    assert Client(HTTP_AUTHORIZATION="Bearer hb_sai").get("/api/v1/assignments").status_code == 401


def test_login_for_a_token_then_revoke_it(gb, cls, settings):
    anonymous = Client()
    wrong = anonymous.post("/api/v1/tokens", {"username": "gvbm", "password": "sai"}, content_type="application/json")
    assert wrong.status_code == 401 and wrong.json()["error"] == "unauthorized"
    missing = anonymous.post("/api/v1/tokens", {"username": "gvbm"}, content_type="application/json")
    assert missing.status_code == 400 and missing.json()["errors"][0]["field"] == "password"
    response = anonymous.post("/api/v1/tokens", {"username": "gvbm", "password": "MatKhau@2026", "label": "máy"},
                              content_type="application/json")
    assert response.status_code == 201
    secret = response.json()["token"]
    token = ApiToken.objects.get(pk=response.json()["id"])
    assert token.token_hash != secret and secret not in token.token_hash and token.label == "máy"
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert client.get("/api/v1/assignments").status_code == 200
    before = AuditEvent.objects.count()
    assert client.delete("/api/v1/tokens/current").status_code == 204
    assert list(AuditEvent.objects.filter(id__gt=0).order_by("-id").values_list("action", flat=True)[:1]) == \
        ["api.token_revoke"] and AuditEvent.objects.count() == before + 1
    assert client.get("/api/v1/assignments").status_code == 401


def test_repeated_wrong_passwords_lock_the_token_login(gb, cls, settings):
    settings.HOCBA_LOGIN_MAX_FAILURES = 2
    anonymous = Client()
    for _ in range(2):
        anonymous.post("/api/v1/tokens", {"username": "gvbm", "password": "sai"}, content_type="application/json")
    locked = anonymous.post("/api/v1/tokens", {"username": "gvbm", "password": "MatKhau@2026"},
                            content_type="application/json")
    assert locked.status_code == 429


def test_token_actions_are_audited_and_only_for_the_owner_or_a_system_admin(gb):
    from django.core.exceptions import PermissionDenied

    before = AuditEvent.objects.count()
    issued = api_actions.issue_token(gb.gvbm, gb.gvbm)
    assert AuditEvent.objects.count() == before + 1
    with pytest.raises(PermissionDenied):
        api_actions.issue_token(gb.gvcn, gb.gvbm)
    with pytest.raises(PermissionDenied):
        api_actions.revoke_token(gb.gvcn, issued.token)
    assert AuditEvent.objects.count() == before + 1


def test_the_api_token_command_issues_lists_and_revokes(gb, cls):
    out, err = io.StringIO(), io.StringIO()
    call_command("api-token", "gvbm", "--label", "máy chấm", stdout=out, stderr=err)
    secret = out.getvalue().strip()
    assert secret.startswith("hb_") and "chỉ hiện một lần" in err.getvalue()
    assert Client(HTTP_AUTHORIZATION=f"Bearer {secret}").get("/api/v1/assignments").status_code == 200
    token = ApiToken.objects.get(user=gb.gvbm)
    listing = io.StringIO()
    call_command("api-token", "gvbm", "--list", stdout=listing)
    assert token.prefix in listing.getvalue() and "máy chấm" in listing.getvalue()
    call_command("api-token", "gvbm", "--revoke", str(token.pk), stdout=io.StringIO())
    assert Client(HTTP_AUTHORIZATION=f"Bearer {secret}").get("/api/v1/assignments").status_code == 401


# --- assignments and columns -----------------------------------------------------------------------------

def test_assignments_list_the_callers_columns(gb, cls, spec):
    response = api(gb.gvbm).get("/api/v1/assignments")
    assert response.status_code == 200
    body = response.json()
    assert body["year"]["name"] == "2024-2025" and len(body["assignments"]) == 24
    first = body["assignments"][0]
    assert first["class_name"] == "6A1" and first["state"] == "open" and first["percent"] == 0
    assert api(gb.other_teacher).get("/api/v1/assignments").json()["assignments"] == []
    for item in body["assignments"]:
        assert_matches(spec, "Assignment", item)


def test_read_a_column_with_versions_and_state(gb, cls, spec):
    response = api(gb.gvbm).get(scores_url(cls))
    assert response.status_code == 200
    body = response.json()
    assert_matches(spec, "Column", body)
    assert body["state"] == "open" and body["editable"] and body["tx_count"] == 4
    assert body["slots"] == ["tx1", "tx2", "tx3", "tx4", "gk", "ck", "comment"]
    assert [r["name"] for r in body["rows"]] == [s.full_name for s in gb.students(cls)]
    assert all(r["version"] == 0 and r["cells"]["gk"] == "" for r in body["rows"])
    # The GVCN and the principal read it; they cannot save.
    assert api(gb.gvcn).get(scores_url(cls)).json()["editable"] is False
    assert api(gb.principal).get(scores_url(cls)).status_code == 200


def test_save_cells_answers_the_new_versions(gb, cls, spec):
    client = api(gb.gvbm)
    a, b, _ = gb.students(cls)
    before = AuditEvent.objects.count()
    response = patch(client, scores_url(cls), [
        {"student_id": a.pk, "slot": "tx1", "old": "", "new": "8,5"},
        {"student_id": a.pk, "slot": "gk", "old": None, "new": 7},
        {"student_id": b.pk, "slot": "ck", "old": "", "absent": True}])
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["changed"] == 3 and body["state"] == "open"
    rows = {r["student_id"]: r for r in body["rows"]}
    assert rows[a.pk]["cells"]["tx1"] == "8.5" and rows[a.pk]["cells"]["gk"] == "7.0" and rows[a.pk]["version"] == 2
    assert rows[b.pk]["absent"] == ["ck"]
    for row in body["rows"]:
        assert_matches(spec, "Row", row)
    assert AuditEvent.objects.count() == before + 1
    assert SubjectRow.objects.get(student=a, subject__code="TO", semester=1).tx[0] == "8.5"
    # The client may send back what it was shown in either spelling.
    again = patch(client, scores_url(cls), [{"student_id": a.pk, "slot": "tx1", "old": "8,5", "new": "9"}])
    assert again.status_code == 200 and again.json()["rows"][0]["cells"]["tx1"] == "9.0"


def test_invalid_values_are_400_naming_the_cell_and_nothing_is_saved(gb, cls, spec):
    client = api(gb.gvbm)
    a, b, _ = gb.students(cls)
    response = patch(client, scores_url(cls), [
        {"student_id": a.pk, "slot": "tx1", "old": "", "new": "8"},
        {"student_id": b.pk, "slot": "gk", "old": "", "new": "10,5"},
        {"student_id": b.pk, "slot": "tx9", "old": "", "new": "8"}])
    assert response.status_code == 400
    body = response.json()
    assert_matches(spec, "Errors", body)
    errors = {(e["student_id"], e["slot"]): e for e in body["errors"]}
    assert errors[(b.pk, "gk")]["value"] == "10,5" and "0 đến 10" in errors[(b.pk, "gk")]["message"]
    assert (b.pk, "tx9") in errors
    row = SubjectRow.objects.filter(student=a, subject__code="TO", semester=1).first()
    assert row is None or row.tx[0] == ""  # not even a's valid edit


@pytest.mark.parametrize(("payload", "field"), [
    ({"edits": []}, "edits"),
    ({"edits": [{"slot": "tx1", "new": "8"}]}, "edits[0].student_id"),
    ({"edits": [{"student_id": 1, "new": "8"}]}, "edits[0].slot"),
    ({"edits": [{"student_id": 1, "slot": "tx1"}]}, "edits[0].new"),
    ({"edits": [{"student_id": 1, "slot": "tx1", "new": "8", "absent": "yes"}]}, "edits[0].absent"),
    ({"edits": [{"student_id": 1, "slot": "tx1", "new": "8", "colour": "red"}]}, "edits[0].colour"),
])
def test_malformed_requests_are_400_naming_the_field(gb, cls, payload, field):
    response = api(gb.gvbm).patch(scores_url(cls), data=json.dumps(payload), content_type="application/json")
    assert response.status_code == 400
    assert field in [e.get("field") for e in response.json()["errors"]]


def test_not_json_is_400(gb, cls):
    response = api(gb.gvbm).patch(scores_url(cls), data=b"{not json", content_type="application/json")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "body"


def test_another_teachers_class_is_403_and_unknown_things_404(gb, cls, spec):
    other = api(gb.other_teacher)
    student = gb.students(cls)[0]
    assert other.get(scores_url(cls)).status_code == 403
    response = patch(other, scores_url(cls), [{"student_id": student.pk, "slot": "tx1", "old": "", "new": "8"}])
    assert response.status_code == 403 and response.json()["error"] == "forbidden"
    assert_matches(spec, "Error", response.json())
    # The GVCN reads the column but does not enter it.
    assert patch(api(gb.gvcn), scores_url(cls), [{"student_id": student.pk, "slot": "tx1", "old": "",
                                                  "new": "8"}]).status_code == 403
    client = api(gb.gvbm)
    assert client.get("/api/v1/classes/999999/subjects/TO/semesters/1/scores").status_code == 404
    assert client.get(scores_url(cls, code="XX")).status_code == 404
    assert client.get(scores_url(cls, semester=3)).status_code == 404
    assert client.put(scores_url(cls)).status_code == 405


def test_a_stale_edit_is_409_with_the_newer_value(gb, cls, spec):
    first, second = api(gb.gvbm), api(gb.gvbm)
    student = gb.students(cls)[0]
    assert patch(first, scores_url(cls), [{"student_id": student.pk, "slot": "ck", "old": "", "new": "8"}]).status_code == 200
    response = patch(second, scores_url(cls), [{"student_id": student.pk, "slot": "ck", "old": "", "new": "6"}])
    assert response.status_code == 409
    body = response.json()
    assert_matches(spec, "Stale", body)
    assert body["conflicts"] == [{"student_id": student.pk, "slot": "ck", "current": "8.0", "updated_by": "gvbm",
                                  "updated_at": body["conflicts"][0]["updated_at"]}]
    assert SubjectRow.objects.get(student=student, subject__code="TO", semester=1).ck == "8.0"
    # The same value as the newer one is not a conflict.
    assert patch(second, scores_url(cls), [{"student_id": student.pk, "slot": "ck", "old": "", "new": "8"}]).status_code == 200


def test_a_confirmed_column_refuses_saves_with_400(gb, cls):
    gb.fill_all(cls)
    actions.confirm_column(gb.gvbm, cls, gb.subjects["TO"], 1)
    client = api(gb.gvbm)
    assert client.get(scores_url(cls)).json()["state"] == "confirmed"
    assert client.get(scores_url(cls)).json()["editable"] is False
    student = gb.students(cls)[0]
    response = patch(client, scores_url(cls), [{"student_id": student.pk, "slot": "gk", "old": "8.0", "new": "9"}])
    assert response.status_code == 400 and "xác nhận" in response.json()["errors"][0]["message"]


# --- summary ---------------------------------------------------------------------------------------------

def test_summary_for_the_gvcn_and_leadership(gb, cls, spec):
    gb.fill_all(cls)
    response = api(gb.gvcn).get(f"/api/v1/classes/{cls.pk}/summary?period=year")
    assert response.status_code == 200
    body = response.json()
    assert_matches(spec, "Summary", body)
    assert body["period"] == "year" and body["state"] == "open" and len(body["students"]) == 3
    assert body["students"][0]["learning"] == "T" and body["students"][0]["subjects"]["TO"] == "8,0"
    assert body["students"][0]["outcome"] == "promoted" and body["students"][0]["complete"] is True
    assert api(gb.principal).get(f"/api/v1/classes/{cls.pk}/summary?period=hk1").status_code == 200
    assert api(gb.gvbm).get(f"/api/v1/classes/{cls.pk}/summary?period=hk1").status_code == 403
    bad = api(gb.gvcn).get(f"/api/v1/classes/{cls.pk}/summary?period=hk3")
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "period"


# --- the OpenAPI document --------------------------------------------------------------------------------

def _api_routes() -> list[str]:
    """Every routed URL under /api/, whichever app routes it (the portal routes its own API paths)."""
    from django.urls import get_resolver

    def walk(patterns, prefix=""):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, route)
            else:
                yield route

    routes = [re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", r) for r in walk(get_resolver().url_patterns)]
    return ["/" + r for r in routes if r.startswith("api/")]


def test_the_openapi_document_is_valid_and_describes_every_api_url(spec):
    from openapi_spec_validator import validate

    validate(spec)
    routes = _api_routes()
    assert sorted(routes) == sorted(spec["paths"])


def test_the_openapi_document_lists_the_methods_each_url_answers(gb, cls, spec):
    client = api(gb.gvbm)
    urls = {"/api/v1/tokens": "/api/v1/tokens", "/api/v1/tokens/current": "/api/v1/tokens/current",
            "/api/v1/assignments": "/api/v1/assignments", "/api/schema/": "/api/schema/",
            "/api/v1/classes/{class_id}/subjects/{code}/semesters/{semester}/scores": scores_url(cls),
            "/api/v1/classes/{class_id}/summary": f"/api/v1/classes/{cls.pk}/summary",
            "/api/v1/verify": "/api/v1/verify",
            "/api/v1/records/{code}/status": "/api/v1/records/ZZZZ-ZZZZ-ZZZZ/status"}
    for path, item in spec["paths"].items():
        documented = {m for m in item if m in ("get", "post", "put", "patch", "delete")}
        for method in ("get", "post", "put", "patch", "delete"):
            if path == "/api/schema/":
                continue
            response = getattr(client, method)(urls[path])
            assert (response.status_code != 405) == (method in documented), (path, method)


def test_the_schema_is_served(spec):
    response = Client().get("/api/schema/")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/yaml")
    assert yaml.safe_load(response.content) == spec
