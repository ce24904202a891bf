"""The identity pages (school admin and principal): who has a certificate, what needs attention, and the
register and deactivate forms. Views are thin: forms parse, actions check and write."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from hocba.school import permissions
from hocba.school.actions import ActionError
from hocba.school.models import School, Staff

from . import actions, status
from .forms import DeactivateForm, RegisterForm
from .models import SigningIdentity


def _managed_school(request, school_id: int) -> School:
    school = get_object_or_404(School, pk=school_id)
    permissions.require_manage_school(request.user, school)
    return school


@login_required
def overview(request, school_id: int):
    school = _managed_school(request, school_id)
    # Answers older than REVOCATION_MAX_AGE are asked again (failures are cached too, so a CA that does not
    # answer slows one page view, not every one).
    status.refresh_revocation(SigningIdentity.objects.filter(school=school, status=SigningIdentity.Status.ACTIVE))
    data = status.school_overview(school)
    history = (SigningIdentity.objects.filter(school=school).exclude(status=SigningIdentity.Status.ACTIVE)
               .select_related("staff").order_by("-deactivated_at", "-registered_at")[:50])
    return render(request, "identities/overview.html", {
        "school": school, "overview": data, "history": history,
        "counts": {state: data.count(state) for state in (status.MISSING, status.EXPIRED, status.EXPIRING,
                                                          status.REVOKED, status.UNCHECKED, status.OK)},
        "warning_days": status.EXPIRY_WARNING_DAYS,
    })


@login_required
@require_POST
def refresh(request, school_id: int):
    school = _managed_school(request, school_id)
    identities = list(SigningIdentity.objects.filter(school=school, status=SigningIdentity.Status.ACTIVE))
    asked = status.refresh_revocation(identities, force=True)
    messages.success(request, f"Đã hỏi tổ chức chứng thực tình trạng của {asked} chứng thư số.")
    return redirect("identities", school_id=school.pk)


@login_required
def register(request, school_id: int, staff_id: int | None = None):
    school = _managed_school(request, school_id)
    staff = get_object_or_404(Staff, pk=staff_id, school=school) if staff_id else None
    holder = staff or school
    form = RegisterForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            if d["source"] == "upload":
                identity = actions.register_identity(request.user, holder, d["certificate"].read(), d["backend"],
                                                     form.backend_params())
            elif d["source"] == "token":
                identity = actions.register_from_token(
                    request.user, holder, module=d["module"], token_label=d["token_label"], pin=d["pin"],
                    key_label=d["key_label"], pin_env=d["pin_env"])
            else:
                identity = actions.register_from_csc(
                    request.user, holder, service_url=d["service_url"], credential_id=d["credential_id"],
                    user_id=d["user_id"], auth_env=d["auth_env"])
        except ActionError as exc:
            for error in exc.messages:
                form.add_error(None, error)
        else:
            status.refresh_revocation([identity], force=True)
            messages.success(request, f"Đã đăng ký chứng thư số của {identity.subject_cn} "
                                      f"(hiệu lực đến {identity.not_after:%d/%m/%Y}).")
            return redirect("identities", school_id=school.pk)
    current = (SigningIdentity.objects.filter(school=school, staff=staff, status=SigningIdentity.Status.ACTIVE,
                                              kind="seal" if staff is None else "personal").first())
    return render(request, "identities/register.html", {
        "school": school, "staff": staff, "form": form, "current": current,
    })


@login_required
def deactivate(request, school_id: int, identity_id: int):
    school = _managed_school(request, school_id)
    identity = get_object_or_404(SigningIdentity.objects.select_related("staff"), pk=identity_id, school=school)
    form = DeactivateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.deactivate_identity(request.user, identity, form.cleaned_data["reason"])
        except ActionError as exc:
            for error in exc.messages:
                form.add_error(None, error)
        else:
            messages.success(request, f"Đã ngừng sử dụng chứng thư số của {identity.subject_cn}.")
            return redirect("identities", school_id=school.pk)
    return render(request, "identities/deactivate.html", {"school": school, "identity": identity, "form": form})
