"""Entry point of a signing worker process (``workflow.run_batch(processes=N)``). Kept free of Django imports
at module level: a spawned process unpickles this function before Django is set up."""

from __future__ import annotations

import os


def sign_shares(tasks: list[tuple[int, list[int]]]) -> dict[int, str]:
    """Signs, batch after batch, the pending items of the given records (this process's share) with this
    process's own database connection and keys; returns batch id → batch-level error (Vietnamese)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hocba.web.settings")
    import django

    django.setup()
    from django.db import connections

    from .models import SigningBatch
    from .workflow import BatchError, Keys, _run_records

    errors: dict[int, str] = {}
    try:
        for batch_id, record_ids in tasks:
            batch = SigningBatch.objects.select_related("school", "signer__user", "actor").get(pk=batch_id)
            try:
                _run_records(batch, record_ids, Keys.for_batch(batch))
            except BatchError as exc:
                errors[batch_id] = str(exc)
            except Exception as exc:  # noqa: BLE001 - reported on the batch, which stays resumable
                errors[batch_id] = f"Lỗi khi ký: {exc}"
    finally:
        connections.close_all()
    return errors
