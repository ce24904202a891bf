"""A sector platform simulator: the CSDL ngành's JSON interface and the exchange receiver in one small server.

It is a standalone program with no Django (``http.server`` and ``sqlite3`` only), so that it behaves like
a foreign system: the tests start it as a subprocess on 127.0.0.1, kill it, and start it again on the same
database file. Run it with::

    python -m hocba.interop.simulator --port 8765 --db var/sector.sqlite3 [--token T] [--seed FILE.json]

``server`` documents the endpoints; ``store`` the persistence and the receiver's rules.
"""

from .server import make_server
from .store import Store

__all__ = ["Store", "make_server"]
