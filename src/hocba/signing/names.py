"""Certificate names compared with their RFC 4518 string preparation computed once per distinct value.

asn1crypto compares two names (an issuer with a subject, a certificate's issuer with a CRL's or an OCSP
responder's, the signer identifier of a CMS structure with a certificate) by preparing every attribute value
— Unicode normalisation and mapping tables from ``stringprep``, character by character — and keeps the result
on the parsed attribute only. Every signature of a học bạ carries its own copy of the chain, parsed anew, so
the same few names (Vietnamese, with diacritics) were prepared again and again: ~8% of the time a portal
worker spends on its share of an 18-signature PDF.

``install()`` puts a cache keyed by the value's text in front of ``NameTypeAndValue._ldap_string_prep``, a pure
function of that text (it does not read the attribute it is called on); an exception is never cached, so a
value asn1crypto refuses is refused each time as before. Only texts of up to ``CACHED_LENGTH`` characters are
kept (a name attribute is a few dozen): a file with huge made-up names cannot grow the cache of a long-lived
process beyond a few megabytes. Idempotent, process-wide.
"""

from __future__ import annotations

import functools

from asn1crypto import x509

_original = x509.NameTypeAndValue._ldap_string_prep


CACHED_LENGTH = 256


@functools.lru_cache(maxsize=4096)
def _cached(string: str) -> str:
    return _original(None, string)


def prepared(string: str) -> str:
    return _cached(string) if len(string) <= CACHED_LENGTH else _original(None, string)


def _ldap_string_prep(self, string):
    return prepared(string)


def install() -> None:
    x509.NameTypeAndValue._ldap_string_prep = _ldap_string_prep
