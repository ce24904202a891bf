"""Short codes: the verification code printed on every page, the QR secret, and the national code of an
ethnicity or nationality written as a name in the school's data.

The verification code is 12 characters of Crockford's base32 (no I, L, O, U: nothing to confuse when typed
from paper), shown in groups of four: ``K7M2-9QXR-4TBD``, 60 random bits. The QR code carries a second,
longer secret that only the printed QR holds; the database keeps its SHA-256.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_TYPED = str.maketrans({"O": "0", "I": "1", "L": "1", "U": "V"})


def new_verification_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def normalise_code(typed: str) -> str:
    """What a person typed ("k7m2 9qxr 4tbd", "K7M29QXR4TBD") → the stored form "K7M2-9QXR-4TBD"."""
    raw = re.sub(r"[^0-9A-Za-z]", "", typed).upper().translate(_TYPED)
    if len(raw) != 12 or any(c not in ALPHABET for c in raw):
        return ""
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def new_secret() -> str:
    return secrets.token_urlsafe(18)


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(secret_hash(secret), stored_hash)


# --- QCVN 109:2017 code lists (a best-effort mapping; interop owns the national lists) --------------------

#: the 54 ethnic groups of Vietnam in the order of the national list (code = position), plus 55 foreigners
ETHNICITIES = (
    "Kinh", "Tày", "Thái", "Hoa", "Khơ-me", "Mường", "Nùng", "HMông", "Dao", "Gia-rai", "Ngái", "Ê-đê", "Ba Na",
    "Xơ-Đăng", "Sán Chay", "Cơ-ho", "Chăm", "Sán Dìu", "Hrê", "Mnông", "Ra-glai", "Xtiêng", "Bru-Vân Kiều", "Thổ",
    "Giáy", "Cơ-tu", "Gié-Triêng", "Mạ", "Khơ-mú", "Co", "Tà-ôi", "Chơ-ro", "Kháng", "Xinh-mun", "Hà Nhì",
    "Chu-ru", "Lào", "La Chí", "La Ha", "Phù Lá", "La Hủ", "Lự", "Lô Lô", "Chứt", "Mảng", "Pà Thẻn", "Cơ Lao",
    "Cống", "Bố Y", "Si La", "Pu Péo", "Brâu", "Ơ Đu", "Rơ-măm", "Người nước ngoài",
)
_ETHNICITY_ALIASES = {"khmer": "Khơ-me", "mong": "HMông", "hmong": "HMông", "bana": "Ba Na", "ede": "Ê-đê"}

NATIONALITIES = {"việt nam": ("VN", "Việt Nam"), "vietnam": ("VN", "Việt Nam"), "vn": ("VN", "Việt Nam")}


def _key(name: str) -> str:
    text = unicodedata.normalize("NFC", name).casefold()
    return re.sub(r"[\s\-]", "", text)


_ETHNICITY_KEYS = {_key(name): (f"{i:02d}", name) for i, name in enumerate(ETHNICITIES, start=1)}
_ETHNICITY_KEYS.update({_key(alias): _ETHNICITY_KEYS[_key(name)] for alias, name in _ETHNICITY_ALIASES.items()})


def ethnicity(name: str) -> tuple[str, str] | None:
    """"Kinh" → ("01", "Kinh"); "Khmer" → ("05", "Khơ-me"); None when the name is not on the list."""
    return _ETHNICITY_KEYS.get(_key(name or ""))


def nationality(name: str) -> tuple[str, str] | None:
    return NATIONALITIES.get(unicodedata.normalize("NFC", name or "").strip().casefold())
