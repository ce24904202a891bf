"""Entry point of a signing worker process (``workflow.run_batch(processes=N)``). Kept free of Django imports
at module level: a spawned process unpickles this function before Django is set up."""

from __future__ import annotations

import os


def sign_share(batch_id: int, record_ids: list[int]) -> str:
    """Signs the pending items of ``record_ids`` in batch ``batch_id`` with this process's own database
    connection and key; returns "" or the batch-level error (Vietnamese)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hocba.web.settings")
    import django

    django.setup()
    from .models import SigningBatch
    from .workflow import BatchError, Keys, _run_records

    batch = SigningBatch.objects.select_related("school", "signer__user", "actor").get(pk=batch_id)
    try:
        _run_records(batch, record_ids, Keys.for_batch(batch))
    except BatchError as exc:
        return str(exc)
    return ""
