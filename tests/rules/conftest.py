"""The rule-engine tests need no database; this only lets them import their builders (rules_builders.py)
under pytest's importlib import mode."""

import sys
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
