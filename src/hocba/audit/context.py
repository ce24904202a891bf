"""Who is acting and from where, for the audit row of the action under way.

The web middleware sets the client address per request; commands leave it empty.
"""

from __future__ import annotations

import contextvars

client_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("hocba_client_ip", default=None)
