"""Small pieces the apps' views share: a file handed out as a download, and the Vietnamese messages of a
refusal (``ActionError`` / ``ValidationError``: one, a list, or a dict of lists)."""

from __future__ import annotations

from django.http import HttpResponse


def attachment(out) -> HttpResponse:
    """``out``: anything with ``data``, ``content_type`` and ``filename`` (``records.actions.FileOut``)."""
    response = HttpResponse(out.data, content_type=out.content_type)
    response["Content-Disposition"] = f'attachment; filename="{out.filename}"'
    return response


def error_messages(exc: Exception) -> list[str]:
    if hasattr(exc, "message_dict"):
        return [m for ms in exc.message_dict.values() for m in ms]
    if hasattr(exc, "messages"):
        return [str(m) for m in exc.messages]
    return [str(exc)]
