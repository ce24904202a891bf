"""Roster import pages: upload → preview → confirm, and the empty templates.

A file with errors is shown with its errors and is not stored: only a file that could be imported becomes a
``RosterUpload``, whose preview page re-checks it and offers the confirmation.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from . import permissions, roster
from .actions import ActionError
from .models import RosterUpload, School, SchoolYear

PREVIEW_ROWS = 200


class RosterUploadForm(forms.Form):
    kind = forms.ChoiceField(label="Loại dữ liệu", choices=RosterUpload.KIND_CHOICES)
    year = forms.ModelChoiceField(label="Năm học", queryset=SchoolYear.objects.none(), empty_label=None,
                                  help_text="Lớp học sinh và phân công thuộc năm học này.")
    file = forms.FileField(label="Tệp dữ liệu (.xlsx hoặc .csv)",
                           widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}))

    def __init__(self, *args, school: School, **kwargs):
        super().__init__(*args, **kwargs)
        years = SchoolYear.objects.filter(school=school).order_by("-name")
        self.fields["year"].queryset = years
        current = years.filter(is_current=True).first() or years.first()
        if current is not None:
            self.fields["year"].initial = current.pk


def _managed_school(request, school_id: int) -> School:
    school = get_object_or_404(School, pk=school_id)
    permissions.require_manage_school(request.user, school)
    return school


def _preview_context(school: School, preview: roster.RosterPreview, **extra) -> dict:
    return {
        "school": school, "preview": preview, "counts": preview.counts, "shown_rows": preview.rows[:PREVIEW_ROWS],
        "hidden_rows": max(0, len(preview.rows) - PREVIEW_ROWS), "kind_label": preview.label, **extra,
    }


@login_required
def roster_upload(request, school_id: int):
    school = _managed_school(request, school_id)
    form = RosterUploadForm(request.POST or None, request.FILES or None, school=school)
    if request.method == "POST" and form.is_valid():
        kind, year, upload = form.cleaned_data["kind"], form.cleaned_data["year"], form.cleaned_data["file"]
        size_error = roster.upload_size_error(upload.size)
        if size_error:  # refuse before reading a byte of it
            preview = roster.refused_preview(kind, upload.name, size_error)
        else:
            data = upload.read()
            preview = roster.parse_roster(kind, upload.name, data, school=school, year=year)
        if preview.ok:
            try:
                stored = roster.store_upload(request.user, school, year, kind, upload.name, data)
            except ActionError as exc:
                for message in exc.messages:
                    form.add_error(None, message)
            else:
                return redirect("roster_preview", school_id=school.pk, upload_id=stored.pk)
        else:
            return render(request, "school/roster_preview.html",
                          _preview_context(school, preview, year=year, upload=None, can_commit=False))
    return render(request, "school/roster_upload.html", {
        "school": school, "form": form,
        "kinds": [(kind, label, roster.KINDS[kind].columns) for kind, label in RosterUpload.KIND_CHOICES],
    })


def _school_upload(request, school_id: int, upload_id: int) -> tuple[School, RosterUpload]:
    school = _managed_school(request, school_id)
    upload = get_object_or_404(RosterUpload.objects.select_related("school", "year", "uploaded_by"),
                               pk=upload_id, school=school)
    return school, upload


@login_required
def roster_preview(request, school_id: int, upload_id: int):
    school, upload = _school_upload(request, school_id, upload_id)
    preview = roster.preview_upload(upload)
    expired = roster.upload_expired(upload)
    can_commit = preview.ok and upload.committed_at is None and not expired
    return render(request, "school/roster_preview.html",
                  _preview_context(school, preview, year=upload.year, upload=upload, expired=expired,
                                   can_commit=can_commit))


@login_required
@require_POST
def roster_commit(request, school_id: int, upload_id: int):
    school, upload = _school_upload(request, school_id, upload_id)
    try:
        result = roster.commit_upload(request.user, upload)
    except ActionError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect("roster_preview", school_id=school.pk, upload_id=upload.pk)
    messages.success(request, result.message)
    return redirect("roster_upload", school_id=school.pk)


@login_required
def roster_template(request, school_id: int, kind: str):
    _managed_school(request, school_id)
    if kind not in roster.KINDS:
        raise Http404("Không có mẫu nhập cho loại dữ liệu này.")
    response = HttpResponse(roster.template_xlsx(kind),
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="{roster.TEMPLATE_FILENAMES[kind]}"'
    return response
