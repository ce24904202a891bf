"""``hocba rules evaluate [--input FILE] [--output FILE]`` — the command-line contract of tt22.md §6.

Reads a JSON list of student-years (standard input when no file), writes the JSON list of results
(standard output when no file), UTF-8 with the Vietnamese letters as they are. Exit status: 0 when every
student was evaluated, 1 when any student had bad input (its entry is ``{"id": …, "error": …}``), 2 when
the input as a whole cannot be read (not JSON, not a list) or the command line is wrong.
"""

from __future__ import annotations

import argparse
import json
import sys
from decimal import Decimal

from hocba.rules.engine import evaluate_many, to_json


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse exits 2 itself; raise instead so main() returns it
        self.print_usage(sys.stderr)
        raise _UsageError(message)


class _UsageError(Exception):
    pass


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="hocba rules", description="Bộ quy tắc đánh giá TT22 (không cần cơ sở dữ liệu).")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    evaluate = commands.add_parser(
        "evaluate", help="đánh giá danh sách học sinh-năm học (JSON vào, JSON ra)",
        description="Đọc danh sách học sinh-năm học (JSON, theo docs/domain/tt22.md §6) và in kết quả (JSON).")
    evaluate.add_argument("--input", metavar="FILE", help="tệp JSON đầu vào (mặc định: đầu vào chuẩn)")
    evaluate.add_argument("--output", metavar="FILE", help="tệp JSON đầu ra (mặc định: đầu ra chuẩn)")
    return parser


def main(argv: list[str]) -> int:
    """Run ``hocba rules`` with ``argv`` (without the leading "rules"); return the exit status."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except _UsageError as error:
        print(f"hocba rules: lỗi: {error}", file=sys.stderr)
        return 2
    except SystemExit as exit_:  # --help
        return int(exit_.code or 0)
    if args.command != "evaluate":
        parser.print_help(sys.stderr)
        return 2
    return _evaluate(args.input, args.output)


def _evaluate(input_path: str | None, output_path: str | None) -> int:
    try:
        if input_path is None:
            raw = sys.stdin.buffer.read()
        else:
            with open(input_path, "rb") as handle:
                raw = handle.read()
    except OSError as error:
        print(f"hocba rules evaluate: không đọc được {input_path}: {error.strerror}", file=sys.stderr)
        return 2
    try:
        students = json.loads(raw.decode("utf-8-sig"), parse_float=Decimal)
    except UnicodeDecodeError:
        print("hocba rules evaluate: đầu vào không phải văn bản UTF-8", file=sys.stderr)
        return 2
    except json.JSONDecodeError as error:
        print(f"hocba rules evaluate: đầu vào không phải JSON hợp lệ (dòng {error.lineno}, cột {error.colno}): "
              f"{error.msg}", file=sys.stderr)
        return 2
    if not isinstance(students, list):
        print("hocba rules evaluate: đầu vào phải là một danh sách (JSON array) học sinh-năm học",
              file=sys.stderr)
        return 2

    results = evaluate_many(students)
    text = dumps(results)
    try:
        if output_path is None:
            sys.stdout.buffer.write(text.encode("utf-8"))
            sys.stdout.buffer.flush()
        else:
            with open(output_path, "w", encoding="utf-8") as handle:
                handle.write(text)
    except OSError as error:
        print(f"hocba rules evaluate: không ghi được {output_path}: {error.strerror}", file=sys.stderr)
        return 2
    return 1 if any("error" in result for result in results) else 0


def dumps(results: list[dict]) -> str:
    """The results as the JSON text of tt22.md §6 (see ``hocba.rules.to_json``)."""
    return to_json(results)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
