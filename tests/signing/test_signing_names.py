"""``hocba.signing.names``: certificate name values are prepared exactly as asn1crypto prepares them (same text,
same refusal), names compare and hash as asn1crypto's own functions say (same answer, same refusal), and still as
RFC 5280 says — equal across case and spacing differences, different when a letter differs — with the caches in
place."""

from __future__ import annotations

import pytest
from asn1crypto import x509
from hypothesis import given, settings
from hypothesis import strategies as st

from hocba.signing import names


def _outcome(fn, text):
    try:
        return ("ok", fn(text))
    except Exception as e:  # noqa: BLE001 - the exact error type is what is compared
        return ("error", type(e).__name__)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=30)
       | st.sampled_from(["Trường THCS Nguyễn Du", "  NGUYỄN   Văn  An ", "Bộ Giáo dục\u0301", "\u200b", "\ufffe"]))
def test_prepared_is_asn1cryptos(text):
    assert _outcome(names.prepared, text) == _outcome(lambda t: names._original(None, t), text)
    assert _outcome(names.prepared, text) == _outcome(lambda t: names._original(None, t), text)  # from the cache


def test_long_values_are_prepared_but_not_kept():
    text = "Nguyễn " * 100
    before = names._cached.cache_info().currsize
    assert names.prepared(text) == names._original(None, text)
    assert names._cached.cache_info().currsize == before


def _name(common_name: str, org: str = "Trường THCS Nguyễn Du") -> x509.Name:
    return x509.Name.build({"common_name": common_name, "organization_name": org})


@pytest.mark.parametrize(("left", "right", "equal"), [
    ("Nguyễn Văn An", "Nguyễn Văn An", True),
    ("Nguyễn Văn An", "NGUYỄN  VĂN AN", True),
    ("Nguyễn Văn An", "Nguyễn Văn Ân", False),
])
def test_names_compare_as_before_with_the_cache(left, right, equal):
    names.install()
    assert x509.NameTypeAndValue._ldap_string_prep is names._ldap_string_prep
    for _ in range(2):
        assert (_name(left) == _name(right)) is equal


_values = (st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=12)
           | st.sampled_from(["Nguyễn Văn An", "NGUYỄN  VĂN AN", "Nguyễn Văn Ân", "\u200b", "\ufffe"]))


@settings(max_examples=200, deadline=None)
@given(_values, _values, st.sampled_from(["Trường THCS Nguyễn Du", "TRƯỜNG THCS NGUYỄN DU", "Sở GD&ĐT"]))
def test_name_equality_and_hashable_are_asn1cryptos(left, right, org):
    names.install()
    a, b = _name(left), _name(right, org)
    # fresh parses of the same encodings: what the caches are keyed by
    a2, b2 = x509.Name.load(a.dump()), x509.Name.load(b.dump())
    for _ in range(2):  # the second time from the caches
        assert _outcome(lambda _: a == b, None) == _outcome(lambda _: names._original_eq(a2, b2), None)
        assert _outcome(lambda _: b == a, None) == _outcome(lambda _: names._original_eq(b2, a2), None)
        assert _outcome(lambda _: a.hashable, None) == _outcome(lambda _: names._original_hashable(a2), None)
    assert (a != b) is (not names._original_eq(a2, b2)) if _outcome(lambda _: a == b, None)[0] == "ok" else True


def test_a_name_is_never_equal_to_something_else():
    names.install()
    assert (_name("Nguyễn Văn An") == "Nguyễn Văn An") is False
    assert x509.Name.__eq__ is names._name_eq
