"""One parsed certificate per distinct encoding within the validation of one document.

Every signature of a học bạ carries its own copy of the chain (the teacher's certificate, the intermediate CA),
and every signature timestamp the TSA's chain: asn1crypto parses each copy on its own, lazily, as pyHanko and
the path validator read their fields (names, keys, extensions, validity) — 37 CMS structures for an
18-signature PDF, fewer than 25 distinct certificates. ``install()`` puts a wrapper around pyHanko's
``extract_certificate_info`` (where the validator takes the certificates out of a CMS structure) that, while
``one_document()`` is active, hands out the first parsed copy of each encoding (DER) instead of the copy at
hand. Two certificates with the same encoding are the same value, and every answer asn1crypto gives about one
is a function of its encoding (it keeps parts it has parsed, never a failure: a copy that cannot be parsed
fails again on the next look, as a fresh copy would).

The copies are kept for one document only (a ``ContextVar``, set around the validation of a PDF's signatures,
inherited by the tasks pyHanko starts), so nothing is shared between documents or threads, and nothing grows in
a long-lived process. Outside ``one_document()`` the wrapper is pyHanko's function.
"""

from __future__ import annotations

import contextlib
import contextvars

from pyhanko.sign.general import SignedDataCerts
from pyhanko.sign.validation import generic_cms

_original = generic_cms.extract_certificate_info
_parsed: contextvars.ContextVar[dict | None] = contextvars.ContextVar("hocba_shared_certs", default=None)


def extract_certificate_info(signed_data) -> SignedDataCerts:
    """``pyhanko.sign.general.extract_certificate_info``, with certificates already seen in this document."""
    info = _original(signed_data)
    parsed = _parsed.get()
    if parsed is None:
        return info

    def shared(cert):
        return parsed.setdefault(cert.dump(), cert)

    return SignedDataCerts(signer_cert=shared(info.signer_cert), other_certs=[shared(c) for c in info.other_certs],
                           attribute_certs=info.attribute_certs)


@contextlib.contextmanager
def one_document():
    """Certificates shared among the signatures validated inside (one document's)."""
    token = _parsed.set({})
    try:
        yield
    finally:
        _parsed.reset(token)


def install() -> None:
    generic_cms.extract_certificate_info = extract_certificate_info
