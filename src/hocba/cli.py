"""The ``hocba`` command.

``hocba rules ...`` runs the pure TT22 engine, ``hocba pki ...``, ``hocba sign ...`` and ``hocba verify ...`` the
pure PKI and signing packages, all without touching Django; every other sub-command is a
Django management command (``hocba migrate``, ``hocba runserver``, ``hocba demo``, ``hocba roster``...).
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "rules":
        from hocba.rules.cli import main as rules_main

        return rules_main(argv[1:])
    if argv and argv[0] == "pki":
        from hocba.pki.cli import main as pki_main

        return pki_main(argv[1:])
    if argv and argv[0] in ("sign", "verify"):
        from hocba.signing.cli import main as signing_main

        return signing_main(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hocba.web.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["hocba", *argv])
    return 0


if __name__ == "__main__":
    sys.exit(main())
