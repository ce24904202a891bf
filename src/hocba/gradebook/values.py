"""Cell values of the grade book: what a teacher may type, in its canonical stored form."""

from __future__ import annotations

import unicodedata

from hocba.rules import ScoreError, parse_score

COMMENT_LEVELS = {"đ": "Đ", "d": "Đ", "đạt": "Đ", "dat": "Đ", "cđ": "CĐ", "cd": "CĐ", "chưa đạt": "CĐ",
                  "chua dat": "CĐ"}
CONDUCT_LEVELS = {"t": "T", "tốt": "T", "k": "K", "khá": "K", "đ": "Đ", "d": "Đ", "đạt": "Đ",
                  "cđ": "CĐ", "cd": "CĐ", "chưa đạt": "CĐ"}


class CellValueError(ValueError):
    """A value the cell does not accept; the message is Vietnamese and says what is allowed."""


def _norm(text: str) -> str:
    return unicodedata.normalize("NFC", " ".join(str(text).split())).lower()


def canonical_score(raw) -> str:
    """'8,5', '8.5', 8.5 → '8.5'; '' → ''. Refuses values outside 0–10 or with two decimals."""
    if raw is None or str(raw).strip() == "":
        return ""
    try:
        tenths = parse_score(str(raw).strip() if not isinstance(raw, (int, float)) else raw)
    except ScoreError as exc:
        raise CellValueError(f"{exc}. Điểm phải từ 0 đến 10, tối đa một chữ số thập phân (ví dụ 8,5).") from None
    return f"{tenths // 10}.{tenths % 10}"


def canonical_comment(raw) -> str:
    """'Đ', 'd', 'Đạt' → 'Đ'; 'CĐ', 'cd' → 'CĐ'; '' → ''."""
    if raw is None or str(raw).strip() == "":
        return ""
    level = COMMENT_LEVELS.get(_norm(raw))
    if level is None:
        raise CellValueError(f"'{raw}' không hợp lệ. Môn đánh giá bằng nhận xét chỉ nhận Đ (Đạt) hoặc CĐ (Chưa đạt).")
    return level


def canonical_conduct(raw) -> str:
    if raw is None or str(raw).strip() == "":
        return ""
    level = CONDUCT_LEVELS.get(_norm(raw))
    if level is None:
        raise CellValueError(f"'{raw}' không hợp lệ. Kết quả rèn luyện là T (Tốt), K (Khá), Đ (Đạt) "
                             "hoặc CĐ (Chưa đạt).")
    return level


def canonical_cell(kind: str, slot: str, raw) -> str:
    if slot == "comment":
        text = unicodedata.normalize("NFC", str(raw or "")).strip()
        if len(text) > 2000:
            raise CellValueError("Nhận xét dài quá 2000 kí tự.")
        return text
    return canonical_score(raw) if kind == "score" else canonical_comment(raw)


def display(value: str) -> str:
    """Vietnamese display: '8.5' → '8,5'."""
    return value.replace(".", ",") if value and value[0].isdigit() else value
