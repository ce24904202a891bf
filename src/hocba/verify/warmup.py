"""Imported by the sandbox's fork server only (``sandbox._ctx``), never by the web process: loads what every
child would otherwise load again for each file — signxml and its XSD schemas, the học bạ schema, pyHanko's
difference analysis and stream filters, our validator with its pruned reverse-reference map and faster token
readers (~18 ms of imports a request) — so that a child starts
with them in its (copy-on-write) memory."""

from __future__ import annotations

import pyhanko.pdf_utils.filters
import pyhanko.sign.diff_analysis  # noqa: F401
import pyhanko_certvalidator  # noqa: F401
from signxml import XMLVerifier
from signxml.xades import XAdESVerifier

from hocba.documents import xsd
from hocba.signing import fastparse, names, shared_certs, usages, validate  # noqa: F401

XMLVerifier.schemas()
XAdESVerifier.schemas()
xsd.schema()
fastparse.install()
names.install()
shared_certs.install()
