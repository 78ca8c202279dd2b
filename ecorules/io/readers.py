"""Readers: a JSONL, CSV or XLSX matter file (or stdin) → `Row`s, one per data row, read or not.

A row that cannot be read (a line that is not JSON, a CSV record with an unclosed or stray quote or the wrong
number of cells, a cell with a control character) is still a row — with its row number and why — so the batch
writes an `invalid` result for it and rows out = rows in, always. Nothing holds the whole file: a
1,000,000-row JSONL or CSV file streams through in constant memory (XLSX: openpyxl's read-only mode).

Row numbers are what the operator sees: JSONL — the line number; CSV / XLSX — the row as Excel shows it
(the header is row 1 in the usual layout, so the first data row is row 2).
"""
from __future__ import annotations

import collections
import csv
import io
import json
import re
import sys
from dataclasses import dataclass
from typing import Any, Iterator, Optional

from ..errors import FormatError
from .columns import (ALIASES, LEVEL_VALUES, RESERVED, cell_text, column_target, format_of, iso_date, names_a_field,
                      restore)
from .encoding import TextSource, open_text, os_reason, undecodable

HEADER_SCAN = 10             # non-blank rows searched for the header
RECORD_MAX_LINES = 2_000     # a quoted cell spanning more lines than this is taken for an unclosed quote
RECORD_MAX_CHARS = 1 << 20   # … or more characters than this
DELIMITERS = {",": "逗号", "\t": "制表符", ";": "分号"}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(slots=True)
class Row:
    """One data row of the input, read or not."""

    number: int                          # JSONL: line; CSV / XLSX: sheet row (header = 1 usually)
    matter: Optional[dict]               # ready for Engine.resolve; None when the row could not be read
    error: Optional[str] = None          # why it could not be read
    cells: Optional[list[str]] = None    # CSV / XLSX: the input's carried cells, as read
    line: Optional[str] = None           # JSONL: the line as read
    read_id: Optional[str] = None        # the id of a row that could not be read, when it has one
    field: Optional[str] = None          # the field at fault, when one is

    @property
    def id(self) -> Optional[str]:
        value = self.matter.get("id") if self.matter else self.read_id
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            return None
        return str(value).strip() or None

    @property
    def key(self) -> tuple:
        """What --resume matches on: the id, or the row number for a row without one."""
        matter_id = self.id
        return ("id", matter_id) if matter_id else ("row", self.number)


class Reader:
    """Iterate to get `Row`s; `columns` are the input's carried column names (None for JSONL)."""

    format: str
    path: Optional[str] = None
    encoding: Optional[str] = None
    columns: Optional[list[str]] = None
    streaming: bool = False  # a pipe (stdin): more rows may be slow to come

    def __iter__(self) -> Iterator[Row]:
        raise NotImplementedError

    def fraction(self) -> Optional[float]:
        """How much of the input has been read (0..1), when known."""
        return None

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def open_reader(path: Optional[str], fmt: Optional[str] = None, encoding: Optional[str] = None,
                sheet: Optional[str] = None) -> Reader:
    """A reader for `path` ('-' or None: stdin), its format given or taken from the extension (stdin: JSONL).
    Raises FormatError (unknown format, unreadable file or encoding, no header) before any row is read."""
    fmt = format_of(path, fmt, default="jsonl" if path in (None, "-") else None)
    if fmt == "xlsx":
        return XlsxReader(path, sheet)
    text = open_text(path, encoding)
    return JsonlReader(text, path) if fmt == "jsonl" else CsvReader(text, path)


def read_matters(path: Optional[str], format: Optional[str] = None, encoding: Optional[str] = None,  # noqa: A002
                 sheet: Optional[str] = None) -> Iterator[Row]:
    """Every row of a matter file, lazily (like sqlite-utils' `rows_from_file`): `row.matter` is a dict for
    `Engine.resolve`, or None with `row.error` saying why the row could not be read. The file is closed when
    the iteration ends."""
    with open_reader(path, format, encoding, sheet) as reader:
        yield from reader


def control_character(value: Any) -> Optional[str]:
    """The first control character (NUL, …) in a text value, as U+XXXX, or None."""
    if isinstance(value, str):
        found = _CONTROL.search(value)
        return f"U+{ord(found.group()):04X}" if found else None
    return None


def _control_problem(number: int, named: dict) -> Optional[tuple[str, str]]:
    for name, value in named.items():
        code = control_character(value)
        if code:
            return (f"第 {number} 行的 {name} 含有控制字符 {code}（{'空字符 NUL' if code == 'U+0000' else '不可见字符'}）；"
                    "文件可能是 UTF-16 编码或已损坏，请检查该单元格", name)
    return None


# ------------------------------------------------------------------ JSONL
class JsonlReader(Reader):
    format = "jsonl"

    def __init__(self, text: TextSource, path: Optional[str] = None):
        self._text, self.path, self.encoding, self.streaming = text, path, text.encoding, text.streaming

    def __iter__(self) -> Iterator[Row]:
        number = 0
        lines = iter(self._text.stream)
        while True:
            try:
                line = next(lines)
            except StopIteration:
                return
            except UnicodeDecodeError as exc:
                raise undecodable(exc, number + 1, self._text.encoding, self.path) from None
            number += 1
            if not line.strip():
                continue  # blank lines are not rows
            line = line.rstrip("\r\n")
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                yield Row(number, None, f"第 {number} 行不是有效的 JSON（第 {exc.colno} 列：{_json_reason(exc.msg)}）",
                          line=line)
                continue
            except RecursionError:
                yield Row(number, None, f"第 {number} 行的 JSON 嵌套过深", line=line)
                continue
            if not isinstance(value, dict):
                yield Row(number, None, f"第 {number} 行应为 JSON 对象，得到 {_json_type(value)}", line=line)
                continue
            facts = value.get("facts") if isinstance(value.get("facts"), dict) else {}
            problem = _control_problem(number, {**{k: v for k, v in value.items() if k != "facts"},
                                                **{f"facts.{k}": v for k, v in facts.items()}})
            if problem:
                yield Row(number, None, problem[0], line=line, read_id=value.get("id"), field=problem[1])
                continue
            yield Row(number, value, line=line)

    def fraction(self):
        return self._text.fraction()

    def close(self):
        self._text.close()


_JSON_REASONS = {"Expecting value": "此处应有一个值", "Expecting property name enclosed in double quotes": "键名应使用双引号",
                 "Expecting ',' delimiter": "缺少逗号", "Expecting ':' delimiter": "缺少冒号",
                 "Unterminated string starting at": "字符串没有结束引号", "Extra data": "对象之后还有多余内容",
                 "Invalid control character at": "字符串中有控制字符", "Invalid \\escape": "无效的转义符",
                 "Invalid \\uXXXX escape": "无效的 \\u 转义"}


def _json_reason(msg: str) -> str:
    return _JSON_REASONS.get(msg, "格式不正确")


def _json_type(value) -> str:
    return {list: "数组", str: "字符串", int: "数字", float: "数字", bool: "true/false"}.get(type(value), "null")


# ------------------------------------------------------------------ CSV / XLSX
class TableReader(Reader):
    """The shared half of CSV and XLSX: find the header, map columns, turn cells into matters.

    The header is the first non-blank row, unless a later one of the first ten names `id` or `title` (a sheet
    often starts with a title row such as “2024年积压事项清单”). A table whose first rows name no matter field
    at all is refused (FormatError) with what was found: a wrong delimiter, encoding or sheet, not a file of
    rows that are all invalid.
    """

    def __init__(self, records: Iterator[tuple[int, list[str], Optional[str]]], path: Optional[str]):
        """`records`: (sheet row number, cells as text, why the record could not be read or None)."""
        self.path = path
        self._records = records
        self._width: Optional[int] = None
        head: list[tuple[int, list[str], Optional[str]]] = []
        for record in records:
            if any(c.strip() for c in record[1]) or record[2]:
                head.append(record)
                if len(head) >= HEADER_SCAN or names_a_field(record[1]):
                    break
        if not head:
            self.header_row, header, self._pending = 0, [], []
        else:
            at = next((i for i, record in enumerate(head) if names_a_field(record[1])), None)
            if at is None:
                at = next((i for i, record in enumerate(head) if names_a_field(record[1], tuple(ALIASES))), None)
            if at is None:
                raise FormatError(self.no_header(head), path)
            self.header_row, header, _ = head[at]
            self._pending = head[at + 1:]
        header = [h.lstrip("\ufeff") for h in header]
        self._header = header
        self._width = len(header)
        self._targets = [column_target(h) for h in header]
        self._keep = [i for i, h in enumerate(header) if h.strip() not in RESERVED]
        self.columns = [header[i] for i in self._keep]
        seen: dict[tuple, str] = {}
        for h, target in zip(header, self._targets):
            if target is None:
                continue
            if target in seen:
                raise FormatError(f"表头第 {self.header_row} 行：列 '{seen[target]}' 和 '{h}' 都表示 "
                                  f"{target[1] or target[0]}，无法判断用哪一列；请删除或改名其中一列", path)
            seen[target] = h

    def no_header(self, head: list) -> str:
        """Why no header was found, and what to try."""
        first = next((cells for _, cells, _ in head if any(c.strip() for c in cells)), [])
        found = "、".join(f"'{c.strip()[:20]}'" for c in first[:8] if c.strip()) or "（无）"
        return (f"找不到表头：前 {len(head)} 个非空行都没有事项字段的列名（如 编号/id、标题/title）；第一行的列为 {found}。"
                f"{self.tried()}")

    def tried(self) -> str:
        return ""

    def __iter__(self) -> Iterator[Row]:
        pending, self._pending = self._pending, []
        for number, cells, problem in pending:
            yield self._row(number, cells, problem)
        for number, cells, problem in self._records:
            if problem or any(c.strip() for c in cells):
                yield self._row(number, cells, problem)

    def _row(self, number: int, cells: list[str], problem: Optional[str] = None) -> Row:
        width = self._width
        carried = [cells[i] if i < len(cells) else "" for i in self._keep]
        if problem:
            return Row(number, None, problem, carried)
        matter: dict[str, Any] = {}
        facts: dict[str, Any] = {}
        given: dict[str, Any] = {}  # from a facts / 事实 column (JSON)
        error = field = None
        for i, (cell, target) in enumerate(zip(cells, self._targets)):
            value = cell.strip()
            if target is None or not value:
                continue  # empty cell = absent
            kind, name = target
            code = control_character(value)
            if code and not error:
                error, field = _control_problem(number, {self.columns_at(i): value})[0], name or "facts"
            if kind == "fact":
                facts[name] = value
            elif kind == "facts":
                try:
                    given = json.loads(value)
                except (json.JSONDecodeError, RecursionError):
                    given = None
                if not isinstance(given, dict):
                    given = {}
                    error = f"第 {number} 行：事实（facts）列应为 JSON 对象，如 {{\"suspected_crime\": true}}"
            elif name == "as_of":
                matter[name] = iso_date(value)
            elif name == "level":
                matter[name] = LEVEL_VALUES.get(value, value)
            else:
                matter[name] = value
        extra = [c.strip() for c in cells[width:] if c.strip()]
        if extra:
            shown = "、".join(f"'{c[:20]}'" for c in extra[:5])
            error = (f"第 {number} 行比表头多出 {len(extra)} 个没有列名的单元格：{shown}"
                     "（多半是某个单元格里的分隔符没有加引号）")
        both = [k for k in given if k in facts]
        if both:
            error = f"第 {number} 行：事实 '{both[0]}' 既在单独一列中、又在事实（facts）列中给出"
        facts = {**given, **facts}
        if facts:
            matter["facts"] = facts
        if error:
            return Row(number, None, error, carried, read_id=matter.get("id"), field=field)
        return Row(number, matter, None, carried)

    def columns_at(self, index: int) -> str:
        return f"“{self._header[index].strip()}”列" if index < len(self._header) else f"第 {index + 1} 列"


class CsvReader(TableReader):
    """Comma-, semicolon- or tab-separated, as the first line says. Each record is parsed on its own
    (strict quoting), so a record with an unclosed or stray quote becomes one invalid row and reading goes
    on from the next line: nothing after it is swallowed into one cell."""

    format = "csv"

    def __init__(self, text: TextSource, path: Optional[str] = None):
        self._text, self.encoding, self.path, self.streaming = text, text.encoding, path, text.streaming
        self._lines: collections.deque = collections.deque()  # (line number, text) pushed back
        self._line_number = 0
        self.delimiter = ","
        try:
            self._sniff()
            super().__init__(self._records(), path)
        except BaseException:
            text.close()
            raise

    # -- lines
    def _next_line(self) -> Optional[tuple[int, str]]:
        if self._lines:
            return self._lines.popleft()
        try:
            line = self._text.stream.readline()
        except UnicodeDecodeError as exc:
            raise undecodable(exc, self._line_number + 1, self._text.encoding, self.path) from None
        if not line:
            return None
        self._line_number += 1
        return self._line_number, line

    def _sniff(self) -> None:
        """The delimiter: tab or semicolon when the first line that has one of them has no comma."""
        seen = []
        while len(seen) < HEADER_SCAN:
            item = self._next_line()
            if item is None:
                break
            seen.append(item)
            line = item[1]
            if any(d in line for d in DELIMITERS):
                if "," not in line:
                    self.delimiter = "\t" if "\t" in line else ";"
                break
        self._lines.extend(seen)

    def tried(self) -> str:
        return (f"按{DELIMITERS[self.delimiter]}分隔、{self.encoding} 编码读取；如分隔符或编码不对，请另存为逗号分隔的"
                "UTF-8 CSV，或用 --encoding 指定编码")

    # -- records
    def _records(self) -> Iterator[tuple[int, list[str], Optional[str]]]:
        """Records numbered as Excel shows them: one per record, blank lines included (a quoted cell may
        span lines)."""
        number = 0
        while True:
            first = self._next_line()
            if first is None:
                return
            number += 1
            taken = [first]
            problem = None

            def feed():
                yield first[1]
                size = len(first[1])
                while True:
                    if len(taken) >= RECORD_MAX_LINES or size > RECORD_MAX_CHARS:
                        raise _TooLong
                    item = self._next_line()
                    if item is None:
                        return
                    taken.append(item)
                    size += len(item[1])
                    yield item[1]
            try:
                cells = next(csv.reader(feed(), delimiter=self.delimiter, strict=True), [])
            except csv.Error as exc:
                problem = _csv_reason(str(exc))
            except _TooLong:
                problem = "引号没有闭合（带引号的单元格一直延续到很多行之后）"
            else:
                if len(taken) > 1 and self._width is not None and len(cells) != self._width:
                    problem = (f"引号没有闭合：这一记录跨 {len(taken)} 行，却有 {len(cells)} 个单元格（表头 "
                               f"{self._width} 列）")
            if problem is None:
                yield number, [restore(c) for c in cells], None
                continue
            # one invalid row for the first line; the lines after it are read again as records of their own
            self._lines.extendleft(reversed(taken[1:]))
            line_number = first[0]
            cells = _loose_cells(first[1], self.delimiter)
            yield number, cells, f"第 {number} 行（文件第 {line_number} 行）无法按 CSV 读取：{problem}"

    def fraction(self):
        return self._text.fraction()

    def close(self):
        self._text.close()


class _TooLong(Exception):
    pass


_CSV_REASONS = (("unexpected end of data", "引号没有闭合（直到文件结束）"),
                ("expected after", "引号后面紧跟了别的字符（多余的引号，或单元格内的引号没有写成两个 \"\"）"),
                ("field larger than field limit", "单元格超过 131,072 个字符（多半是引号没有闭合）"),
                ("line contains NUL", "含有空字符 NUL（文件可能是 UTF-16 编码或已损坏）"),
                ("new-line character seen in unquoted field", "单元格中有未加引号的换行"))


def _csv_reason(message: str) -> str:
    return next((zh for en, zh in _CSV_REASONS if en in message), "格式不正确")


def _loose_cells(line: str, delimiter: str) -> list[str]:
    """The cells of a line that is not valid CSV, split without quoting rules (to carry to the output)."""
    return line.rstrip("\r\n").split(delimiter)


class XlsxReader(TableReader):
    """The first sheet (or `sheet`), streamed with openpyxl's read-only mode."""

    format = "xlsx"

    def __init__(self, path: Optional[str], sheet: Optional[str] = None):
        from openpyxl import load_workbook
        self.path = path
        if path in (None, "-"):
            self._file = io.BytesIO(sys.stdin.buffer.read())  # a zip needs seeking
        else:
            try:
                self._file = open(path, "rb")  # a file object: openpyxl would refuse a name not ending in .xlsx
            except OSError as exc:
                raise FormatError(f"无法打开：{os_reason(exc)}", path) from None
        try:
            self._book = load_workbook(self._file, read_only=True, data_only=True)
        except Exception as exc:
            self._file.close()
            raise FormatError(f"不是可读的 XLSX 文件（{type(exc).__name__}）；如是 .xls 或 CSV，请另存为 .xlsx", path) \
                from None
        try:
            if sheet is not None:
                if sheet not in self._book.sheetnames:
                    raise FormatError(f"没有名为 '{sheet}' 的工作表（有：{'、'.join(self._book.sheetnames)}）", path)
                self._sheet = self._book[sheet]
            else:
                self._sheet = self._book.worksheets[0]
            self._total = self._sheet.max_row
            self._sheet.reset_dimensions()  # a wrong <dimension> must never cut rows off
            self._at = 0
            super().__init__(self._records(), path)
        except BaseException:
            self.close()
            raise

    def tried(self) -> str:
        names = "、".join(f"'{n}'" for n in self._book.sheetnames)
        return f"读取的是工作表 '{self._sheet.title}'（工作簿中的工作表：{names}）；请用 --sheet 指定事项所在的工作表"

    def _records(self) -> Iterator[tuple[int, list[str], None]]:
        for number, values in enumerate(self._sheet.iter_rows(values_only=True), start=1):
            self._at = number
            yield number, [cell_text(v) for v in values], None

    def fraction(self):
        if not self._total:
            return None
        return min(1.0, self._at / self._total)

    def close(self):
        self._book.close()
        self._file.close()
