"""``python -m hocba.interop.simulator --port N --db FILE``: serve the sector simulator until stopped.

Prints one line, ``listening on http://HOST:PORT``, once the socket accepts connections (``--port 0`` picks a
free port, which that line names). ``--seed FILE`` loads sector data first: a JSON object whose keys are
kinds (``schools``, ``staff``, ``classes``, ``students``, ``assignments``) and whose values are lists of
items; loading the same file again changes nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys

from .server import make_server
from .store import KINDS

DEFAULT_TOKEN = "sector-demo-token"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hocba.interop.simulator",
                                     description="Sector platform simulator (CSDL ngành + exchange receiver).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--db", required=True, help="SQLite file that keeps the simulator's state")
    parser.add_argument("--token", default=os.environ.get("HOCBA_SIMULATOR_TOKEN", DEFAULT_TOKEN),
                        help="bearer token clients must present (default: $HOCBA_SIMULATOR_TOKEN or the demo token)")
    parser.add_argument("--seed", help="JSON file of sector data to load before serving")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)

    server = make_server(args.host, args.port, args.db, args.token, verbose=args.verbose)
    if args.seed:
        with open(args.seed, encoding="utf-8") as fh:
            data = json.load(fh)
        for kind in KINDS:  # in dependency order
            if data.get(kind):
                changed = server.store.upsert(kind, data[kind])
                print(f"seed: {kind}: {changed} changed", file=sys.stderr)

    def stop(_signum, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    host, port = server.server_address[:2]
    print(f"listening on http://{host}:{port}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
