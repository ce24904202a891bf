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

Even with the values prepared once, comparing two names walks both (every attribute's type and value looked up
through asn1crypto's lazy parsing): pyHanko matches each certificate of a signature's bag against its signer
identifier, and the path builder compares issuers and subjects, ~400 comparisons for an 18-signature PDF.
``Name.__eq__`` and ``Name.hashable`` are functions of the names' encodings (DER), so they are kept by encoding
as well, under the same rules (never an exception; encodings of up to ``CACHED_DER`` bytes).
"""

from __future__ import annotations

import functools

from asn1crypto import x509

_original = x509.NameTypeAndValue._ldap_string_prep
_original_eq = x509.Name.__eq__
_original_hashable = x509.Name.hashable.fget


CACHED_LENGTH = 256
CACHED_DER = 1024


@functools.lru_cache(maxsize=4096)
def _cached(string: str) -> str:
    return _original(None, string)


def prepared(string: str) -> str:
    return _cached(string) if len(string) <= CACHED_LENGTH else _original(None, string)


def _ldap_string_prep(self, string):
    return prepared(string)


class _Encoded:
    """A name carried into the caches below by its encoding: equal (and hashed) by encoding only."""

    __slots__ = ("der", "name")

    def __init__(self, der: bytes, name: x509.Name):
        self.der, self.name = der, name

    def __eq__(self, other) -> bool:
        return self.der == other.der

    def __hash__(self) -> int:
        return hash(self.der)


@functools.lru_cache(maxsize=4096)
def _equal(a: _Encoded, b: _Encoded) -> bool:
    return _original_eq(a.name, b.name)


@functools.lru_cache(maxsize=1024)
def _hashable(a: _Encoded) -> str:
    return _original_hashable(a.name)


def _der(name) -> bytes | None:
    der = name.dump()
    return der if len(der) <= CACHED_DER else None


def _name_eq(self, other):
    if not isinstance(other, x509.Name):
        return False
    a, b = _der(self), _der(other)
    if a is None or b is None:
        return _original_eq(self, other)
    return _equal(_Encoded(a, self), _Encoded(b, other))


def _name_hashable(self):
    der = _der(self)
    return _original_hashable(self) if der is None else _hashable(_Encoded(der, self))


def install() -> None:
    x509.NameTypeAndValue._ldap_string_prep = _ldap_string_prep
    x509.Name.__eq__ = _name_eq
    x509.Name.hashable = property(_name_hashable)
