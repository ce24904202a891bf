"""Vietnamese names: validation of personal numbers and the sort order of the class list.

Vietnamese lists sort by given name (the last word), then family name, then middle names, with the
Vietnamese alphabet (a ă â b c d đ e ê g h i k l m n o ô ơ p q r s t u ư v x y) and tones as a tie-break.
"""

from __future__ import annotations

import re
import unicodedata

_ALPHABET = "aăâbcdđeêghiklmnoôơpqrstuưvxy"
_BASE_RANK = {ch: i for i, ch in enumerate(_ALPHABET)}
# Tone marks in the order dictionaries use: none, huyền, hỏi, ngã, sắc, nặng.
_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}
# Marks that make a distinct letter (ă â ê ô ơ ư), which NFD would split off.
_LETTER_MARKS = {"\u0306", "\u0302", "\u031b"}

PERSONAL_NUMBER_RE = re.compile(r"^\d{12}$")


def normalise_name(name: str) -> str:
    """Collapse spaces and put the name in NFC, as the học bạ prints it."""
    return unicodedata.normalize("NFC", " ".join(name.split()))


def _word_key(word: str) -> tuple:
    letters: list[int] = []
    tones: list[int] = []
    for ch in unicodedata.normalize("NFD", word.lower()):
        if ch in _TONES:
            tones.append(_TONES[ch])
            continue
        if ch in _LETTER_MARKS and letters:
            base = _ALPHABET[letters[-1]] if letters[-1] < len(_ALPHABET) else ""
            composed = unicodedata.normalize("NFC", base + ch)
            if composed in _BASE_RANK:
                letters[-1] = _BASE_RANK[composed]
            continue
        letters.append(_BASE_RANK.get(ch, len(_ALPHABET) + ord(ch)))
    return tuple(letters), tuple(tones)


def vietnamese_sort_key(full_name: str) -> str:
    """A string that sorts like the Vietnamese class list (stored so the database can order by it)."""
    words = normalise_name(full_name).split(" ")
    if not words or words == [""]:
        return ""
    ordered = [words[-1], words[0], *words[1:-1]]
    parts = []
    for word in ordered:
        letters, tones = _word_key(word)
        parts.append("".join(f"{n:03d}" for n in letters) + "." + "".join(str(t) for t in tones))
    return "|".join(parts)[:250]


def is_valid_personal_number(value: str) -> bool:
    """Số định danh cá nhân: exactly 12 digits (province code, century/gender digit, birth year, serial)."""
    if not PERSONAL_NUMBER_RE.match(value or ""):
        return False
    return 1 <= int(value[:3]) <= 96  # the province codes of the citizen-identity scheme


def mask_personal_number(value: str) -> str:
    """For public pages: keep the first 3 and last 3 digits."""
    if not value or len(value) < 6:
        return "***"
    return value[:3] + "*" * (len(value) - 6) + value[-3:]
