"""Reading matters and writing resolutions — JSONL, CSV and XLSX, one row at a time.

Readers turn a file into `Row`s: a matter (a dict for `Engine.resolve`), or why the row could not be
read, always with its row number and the cells it was read from. Writers turn results into JSON lines,
CSV records or sheet rows. Neither ever holds a whole file, so a 1,000,000-row JSONL or CSV file
streams through in constant memory (XLSX: openpyxl's read-only and write-only modes).

Row numbers are what the operator sees: JSONL — the line number; CSV / XLSX — the row as Excel shows
it (the header is row 1 in the usual layout, so the first data row is row 2).

Output files are written to `<name>.part` and renamed into place by `commit()`: an interrupted run
leaves `<name>.part`, which never looks complete and which `resume=True` continues.
"""
from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import itertools
import json
import os
import re
import sys
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO, Iterable, Iterator, Optional, Sequence

from .errors import EcorulesError

FORMATS = ("jsonl", "csv", "xlsx")
EXTENSIONS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx"}
XLSX_MAX_ROWS = 1_048_576  # Excel's own limit, header included
XLSX_MAX_CELL = 32_767     # characters Excel shows in one cell
PART_SUFFIX = ".part"

# Column headers accepted for each matter field (besides the field name itself, in any case, with
# spaces or hyphens for underscores). The first alias is the header ecorules writes for JSONL input.
ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("编号", "事项编号", "工单编号", "工单号", "任务编号"),
    "title": ("标题", "事项", "事项名称", "事项标题", "工单标题", "任务名称"),
    "district": ("区", "所属区", "区县", "所在区", "行政区"),
    "level": ("层级", "级别"),
    "category": ("类别", "事项类别"),
    "approved_by": ("审批部门", "审批机关"),
    "source": ("来源", "事项来源", "工单来源", "渠道"),
    "as_of": ("日期", "受理日期", "登记日期"),
    "facts": ("事实",),
}
FIELDS = tuple(ALIASES)
FACT_PREFIXES = ("facts.", "事实.")
LEVEL_VALUES = {"市级": "municipal", "市": "municipal", "区级": "district", "区": "district"}

# Columns ecorules writes after the input's own columns. On input they are ignored (never facts), so an
# output file can be read again: its result columns are replaced, not doubled.
RESULT_COLUMNS = ("行号", "判断状态", "牵头部门", "牵头部门编码", "配合部门", "冲突候选部门", "判定类别", "上报至",
                  "移交", "义务", "依据条款", "判断说明", "错误说明", "错误字段", "判断日期", "规则库版本", "规则库哈希")
ERROR_COLUMNS = ("行号", "错误说明", "错误字段")  # added to the rows of an --errors file (CSV / XLSX)
_RESERVED = frozenset(RESULT_COLUMNS)
_ROW_COLUMN = RESULT_COLUMNS.index("行号")

_HEADER_SCAN = 10  # non-blank rows searched for the header
_SNIFF_BYTES = 1 << 20
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
                   r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")  # a time of day, as Excel adds, is dropped
_XML_ILLEGAL = re.compile(r"[\000-\010\013\014\016-\037]")


class FormatError(EcorulesError):
    """A file that cannot be read or written as asked (unknown format, encoding, header, …); exit 1."""

    def __init__(self, message: str, path: Optional[str] = None):
        self.message, self.path = message, path
        super().__init__(f"{path}: {message}" if path else message)


@dataclass(slots=True)
class Row:
    """One data row of the input, read or not."""

    number: int                          # JSONL: line; CSV / XLSX: sheet row (header = 1 usually)
    matter: Optional[dict]               # ready for Engine.resolve; None when the row could not be read
    error: Optional[str] = None          # why it could not be read
    cells: Optional[list[str]] = None    # CSV / XLSX: the input's carried cells, as read
    line: Optional[str] = None           # JSONL: the line as read
    read_id: Optional[str] = None        # the id of a row that could not be read, when it has one

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


# ================================================================== choosing a format
def format_of(path: Optional[str], given: Optional[str], default: Optional[str] = None, what: str = "输入") -> str:
    """The format named by `given`, else by the file's extension, else `default`."""
    if given:
        return given
    if path and path != "-":
        found = EXTENSIONS.get(Path(path).suffix.lower())
        if found:
            return found
    if default:
        return default
    allowed = "、".join(sorted(EXTENSIONS))
    raise FormatError(f"无法从扩展名判断{what}格式（可用：{allowed}）；请用 --{'input-' if what == '输入' else ''}format "
                      f"指定 jsonl / csv / xlsx", path)


def part_path(path: str | os.PathLike) -> Path:
    """Where the output is written until it is complete."""
    path = Path(path)
    return path.with_name(path.name + PART_SUFFIX)


# ================================================================== bytes → text
class _Source(io.RawIOBase):
    """A binary stream that replays `prefix` first and counts the bytes it hands out (for progress)."""

    def __init__(self, raw: BinaryIO, prefix: bytes = b""):
        self._raw, self._prefix, self.consumed = raw, prefix, 0
        self._read = getattr(raw, "read1", raw.read)

    def readable(self):
        return True

    def readinto(self, buffer) -> int:
        if self._prefix:
            n = min(len(buffer), len(self._prefix))
            buffer[:n], self._prefix = self._prefix[:n], self._prefix[n:]
        else:
            data = self._read(len(buffer))  # whatever has arrived: a pipe must not wait for a full buffer
            n = len(data)
            buffer[:n] = data
        self.consumed += n
        return n


_CANONICAL = {"gbk": "gb18030", "gb2312": "gb18030", "utf-8": "utf-8-sig"}  # by codecs.lookup(name).name


def _normal_encoding(name: str) -> str:
    """GBK and GB2312 are read as GB18030 (a superset); UTF-8 always drops a BOM."""
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        raise FormatError(f"未知的编码 '{name}'（可用如 utf-8、gb18030、gbk）") from None
    return _CANONICAL.get(codec, codec)


def _decodes(chunks: Iterable[bytes], encoding: str, complete: bool) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        for chunk in chunks:
            decoder.decode(chunk)
        if complete:
            decoder.decode(b"", final=True)
        return True
    except UnicodeDecodeError:
        return False


def _chunks(raw: BinaryIO, size: int = _SNIFF_BYTES) -> Iterator[bytes]:
    while True:
        chunk = raw.read(size)
        if not chunk:
            return
        yield chunk


def detect_encoding(raw: BinaryIO, seekable: bool) -> tuple[str, bytes]:
    """(encoding, bytes already read). UTF-8 (with or without BOM) when the text decodes as UTF-8,
    otherwise GB18030 (what Excel and WPS save on Chinese Windows); UTF-16 by its BOM.

    A seekable file is checked to the end (so a file that is ASCII for a megabyte and GBK after is not
    misread), then rewound; a pipe is judged by what has arrived (never waiting for more: it may be a
    stream that is still being written).
    """
    head = raw.read(_SNIFF_BYTES) if seekable else getattr(raw, "read1", raw.read)(_SNIFF_BYTES)
    if head.startswith(codecs.BOM_UTF8):
        found = "utf-8-sig"
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        found = "utf-16"
    elif seekable:
        if _decodes(itertools.chain([head], _chunks(raw)), "utf-8", complete=True):  # a chunk at a time
            found = "utf-8-sig"
        else:
            raw.seek(0)
            if not _decodes(_chunks(raw), "gb18030", complete=True):
                raise FormatError("文件既不是 UTF-8 也不是 GB18030/GBK 编码；请用 --encoding 指定")
            found = "gb18030"
    else:
        found = "utf-8-sig" if _decodes([head], "utf-8", complete=False) else "gb18030"
    if seekable:
        raw.seek(0)
        return found, b""
    return found, head


class _Text:
    """A decoded text stream over a file or stdin, with the fraction of bytes consumed."""

    def __init__(self, raw: BinaryIO, encoding: Optional[str], size: Optional[int], seekable: bool):
        prefix = b""
        if encoding:
            self.encoding = _normal_encoding(encoding)
        else:
            self.encoding, prefix = detect_encoding(raw, seekable)
        self._raw, self._size, self.streaming = raw, size, not seekable
        self._source = _Source(raw, prefix)
        self.stream = io.TextIOWrapper(io.BufferedReader(self._source, 1 << 16), encoding=self.encoding,
                                       errors="strict", newline="")

    def fraction(self) -> Optional[float]:
        if not self._size:
            return None
        return min(1.0, self._source.consumed / self._size)

    def close(self):
        self._raw.close()


def _open_binary(path: Optional[str]) -> tuple[BinaryIO, Optional[int], bool]:
    if path in (None, "-"):
        stream = sys.stdin.buffer if hasattr(sys.stdin, "buffer") else sys.stdin
        return _Unclosable(stream), None, False
    try:
        raw = open(path, "rb")
    except OSError as exc:
        raise FormatError(f"无法打开：{exc.strerror}", path) from None
    return raw, os.fstat(raw.fileno()).st_size, True


class _Unclosable(io.RawIOBase):
    """stdin, read but never closed by us."""

    def __init__(self, stream):
        self._stream = stream

    def readable(self):
        return True

    def read(self, size=-1):
        return self._stream.read(size)

    def read1(self, size=-1):
        return getattr(self._stream, "read1", self._stream.read)(size)

    def readinto(self, buffer):
        data = self.read1(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    def close(self):
        pass


# ================================================================== readers
class Reader:
    """Iterate to get `Row`s; `columns` are the input's carried column names (None for JSONL)."""

    format: str
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
    """A reader for `path` ('-' or None: stdin), its format given or taken from the extension (stdin: JSONL)."""
    fmt = format_of(path, fmt, default="jsonl" if path in (None, "-") else None)
    if fmt == "xlsx":
        return XlsxReader(path, sheet)
    raw, size, seekable = _open_binary(path)
    try:
        text = _Text(raw, encoding, size, seekable)
    except BaseException:
        raw.close()
        raise
    return JsonlReader(text, path) if fmt == "jsonl" else CsvReader(text, path)


class JsonlReader(Reader):
    format = "jsonl"

    def __init__(self, text: _Text, path: Optional[str] = None):
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
                raise _undecodable(exc, number + 1, self._text.encoding, self.path) from None
            number += 1
            if not line.strip():
                continue  # blank lines are not rows
            line = line.rstrip("\r\n")
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                yield Row(number, None, f"第 {number} 行不是有效的 JSON（第 {exc.colno} 列：{exc.msg}）", line=line)
                continue
            if not isinstance(value, dict):
                yield Row(number, None, f"第 {number} 行应为 JSON 对象，得到 {type(value).__name__}", line=line)
                continue
            yield Row(number, value, line=line)

    def fraction(self):
        return self._text.fraction()

    def close(self):
        self._text.close()


def _undecodable(exc: UnicodeDecodeError, number: int, encoding: str, path) -> FormatError:
    return FormatError(f"第 {number} 行附近无法按 {encoding} 解码（{exc.reason}）；请用 --encoding 指定文件编码", path)


def normalize_header(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).strip().rstrip("*").strip().lower()
    return re.sub(r"[\s\-]+", "_", text)


_BY_HEADER = {normalize_header(name): field for field, aliases in ALIASES.items() for name in (field, *aliases)}


def column_target(header: str) -> Optional[tuple[str, Optional[str]]]:
    """What a column means: ('field', name) | ('fact', name) | ('facts', None); None = not read."""
    if not header.strip() or header.strip() in _RESERVED:
        return None
    key = normalize_header(header)
    field = _BY_HEADER.get(key)
    if field == "facts":
        return ("facts", None)
    if field:
        return ("field", field)
    for prefix in FACT_PREFIXES:
        if key.startswith(prefix) and key[len(prefix):]:
            return ("fact", header.strip()[len(prefix):].strip())
    return ("fact", unicodedata.normalize("NFKC", header).strip())


class TableReader(Reader):
    """The shared half of CSV and XLSX: find the header, map columns, turn cells into matters.

    The header is the first non-blank row, unless a later one of the first ten names a matter field
    (a sheet often starts with a title row such as “2024年积压事项清单”).
    """

    def __init__(self, records: Iterator[tuple[int, list[str], Optional[str]]], path: Optional[str]):
        """`records`: (sheet row number, cells as text, why the record could not be read or None)."""
        self.path = path
        self._records = records
        head: list[tuple[int, list[str], Optional[str]]] = []
        for record in records:
            if any(c.strip() for c in record[1]) or record[2]:
                head.append(record)
                if len(head) >= _HEADER_SCAN or _names_a_field(record[1]):
                    break
        if not head:
            self.header_row, header, self._pending = 0, [], []
        else:
            at = next((i for i, record in enumerate(head) if _names_a_field(record[1])), 0)
            self.header_row, header, _ = head[at]
            self._pending = head[at + 1:]
        header = [h.lstrip("\ufeff") for h in header]
        self._width = len(header)
        self._targets = [column_target(h) for h in header]
        self._keep = [i for i, h in enumerate(header) if h.strip() not in _RESERVED]
        self.columns = [header[i] for i in self._keep]
        seen: dict[tuple, str] = {}
        for h, target in zip(header, self._targets):
            if target is None:
                continue
            if target in seen:
                raise FormatError(f"表头第 {self.header_row} 行：列 '{seen[target]}' 和 '{h}' 都表示 "
                                  f"{target[1] or target[0]}，无法判断用哪一列；请删除或改名其中一列", path)
            seen[target] = h

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
            return Row(number, None, f"第 {number} 行无法读取（{problem}）", carried)
        matter: dict[str, Any] = {}
        facts: dict[str, Any] = {}
        given: dict[str, Any] = {}  # from a facts / 事实 column (JSON)
        error = None
        for cell, target in zip(cells, self._targets):
            value = cell.strip()
            if target is None or not value:
                continue  # empty cell = absent
            kind, name = target
            if kind == "fact":
                facts[name] = value
            elif kind == "facts":
                try:
                    given = json.loads(value)
                except json.JSONDecodeError:
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
                     "（多半是某个单元格里的逗号没有加引号）")
        both = [k for k in given if k in facts]
        if both:
            error = f"第 {number} 行：事实 '{both[0]}' 既在单独一列中、又在事实（facts）列中给出"
        facts = {**given, **facts}
        if facts:
            matter["facts"] = facts
        if error:
            return Row(number, None, error, carried, read_id=matter.get("id"))
        return Row(number, matter, None, carried)


def _names_a_field(cells: Sequence[str]) -> bool:
    return any(_BY_HEADER.get(normalize_header(c)) in ("id", "title") for c in cells if c.strip())


def iso_date(text: str) -> str:
    """Dates as Excel writes them in CSV on Chinese Windows (2024/9/1, 2024年9月1日, 2024-09-01 00:00:00) → ISO."""
    match = _DATE.match(text.strip())
    if not match:
        return text
    try:
        return dt.date(*map(int, match.groups())).isoformat()
    except ValueError:
        return text  # an impossible date: the engine says so


class CsvReader(TableReader):
    format = "csv"

    def __init__(self, text: _Text, path: Optional[str] = None):
        self._text, self.encoding, self.path, self.streaming = text, text.encoding, path, text.streaming
        try:
            super().__init__(self._records(), path)
        except BaseException:
            text.close()
            raise

    def _records(self) -> Iterator[tuple[int, list[str], Optional[str]]]:
        """Records numbered as Excel shows them: one per record, blank lines included (a quoted cell may
        span lines). A tab-separated file (Excel's “Unicode text”) is recognised by its first line."""
        stream = self._text.stream
        number = 0
        try:
            first = stream.readline()
            delimiter = "\t" if "\t" in first and "," not in first else ","
            reader = csv.reader(_chain_first(first, stream), delimiter=delimiter)
            while True:
                try:
                    cells = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    number += 1
                    yield number, [], f"CSV 格式错误：{exc}"
                    continue
                number += 1
                yield number, cells, None
        except UnicodeDecodeError as exc:
            raise _undecodable(exc, number + 1, self._text.encoding, self.path) from None

    def fraction(self):
        return self._text.fraction()

    def close(self):
        self._text.close()


def _chain_first(first: str, rest: IO[str]) -> Iterator[str]:
    if first:
        yield first
    yield from rest


def cell_text(value) -> str:
    """An XLSX cell as text (CSV and XLSX are read alike): 12 → '12', 12.0 → '12', dates → ISO."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


class XlsxReader(TableReader):
    """The first sheet (or `sheet`), streamed with openpyxl's read-only mode."""

    format = "xlsx"

    def __init__(self, path: Optional[str], sheet: Optional[str] = None):
        from openpyxl import load_workbook
        if path in (None, "-"):
            self._file = io.BytesIO(sys.stdin.buffer.read())  # a zip needs seeking
        else:
            try:
                self._file = open(path, "rb")  # a file object: openpyxl would refuse a name not ending in .xlsx
            except OSError as exc:
                raise FormatError(f"无法打开：{exc.strerror}", path) from None
        try:
            self._book = load_workbook(self._file, read_only=True, data_only=True)
        except Exception as exc:
            self._file.close()
            raise FormatError(f"不是可读的 XLSX 文件（{type(exc).__name__}: {exc}）", path) from None
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


# ================================================================== results → cells
def _names(departments) -> str:
    return "、".join(d.name for d in departments)


def result_cells(resolution, row: int) -> list[str]:
    """The RESULT_COLUMNS of one resolution, as readable text."""
    r = resolution
    cites = []
    for basis in r.basis:
        if basis.outcome == "adopted" and basis.cite not in cites:
            cites.append(basis.cite)
    if r.escalation and r.escalation.cite not in cites:
        cites.append(r.escalation.cite)
    escalation = ""
    if r.escalation:
        escalation = _names(r.escalation.to)
        if r.escalation.proposer:
            escalation += f"（由{r.escalation.proposer.name}提出意见）"
    transfers = "；".join(f"{t.to.name}（{t.reason}）" for t in r.transfers)
    obligations = "；".join(o.what + (f"（{o.due}前）" if o.due else "") for o in r.obligations)
    return [
        str(row), r.status, r.lead.name if r.lead else "", r.lead.id if r.lead else "", _names(r.assist),
        _names(r.candidates), r.category or "", escalation, transfers, obligations, "；".join(cites),
        r.explanation, r.error.message if r.error else "", (r.error.field or "") if r.error else "",
        r.as_of.isoformat() if r.as_of else "", f"{r.rulebook.name} {r.rulebook.version}", r.rulebook.hash,
    ]


def jsonl_carried(matter: Optional[dict]) -> list[str]:
    """For JSONL input written as a table: the matter's fields under their Chinese headers."""
    if not matter:
        return [""] * len(FIELDS)
    cells = []
    for field in FIELDS:
        value = matter.get(field)
        if value is None or value == {}:
            cells.append("")
        elif isinstance(value, str):
            cells.append(value)
        else:
            cells.append(json.dumps(value, ensure_ascii=False, default=str))
    return cells


JSONL_COLUMNS = [ALIASES[field][0] for field in FIELDS]


# ================================================================== writers
@dataclass
class Done:
    """What an existing output already holds (for --resume)."""

    keys: set
    rows: int = 0
    source: Optional[str] = None


class Writer:
    """Writes rows to `<path>.part` (or stdout), renamed to `path` by commit().

    Data reaches the file in whole rows only (buffered here, written at row boundaries), so even a
    killed run leaves a `.part` that ends with a complete row, or whose last partial row resume drops.
    """

    format: str
    flush_bytes = 1 << 18
    flush_seconds = 0.5

    def __init__(self, path: Optional[str], columns: Optional[list[str]]):
        self.path = None if path in (None, "-") else Path(path)
        self.part = part_path(self.path) if self.path else None
        self.columns = columns
        self.rows = 0
        self.done = Done(set())
        self._buffer: list[str] = []
        self._buffered = 0
        self._last_flush = time.monotonic()
        self._file: Optional[BinaryIO] = None

    # -- subclasses
    def _encode(self, carried, payload) -> str:
        raise NotImplementedError

    def _header(self) -> str:
        return ""

    def _scan(self, path: Path, keys: set) -> Optional[int]:
        """Collect the keys of an existing output; return the byte length of its complete rows."""
        raise NotImplementedError

    # -- lifecycle
    def open(self, resume: bool = False) -> "Writer":
        if self.path is None:
            if resume:
                raise FormatError("--resume 需要用 -o 指定输出文件")
            self._file = _StdoutBytes()
            self._write(self._header())
            return self
        self.path.parent.mkdir(parents=True, exist_ok=True)
        source = None
        if resume:
            source = next((p for p in (self.part, self.path) if p.exists()), None)
        if source is not None:
            self.done.source = str(source)
            keep = self._scan(source, self.done.keys)
            if source != self.part:
                _copy_prefix(source, self.part, keep)
            else:
                with open(self.part, "r+b") as f:
                    f.truncate(keep)
            self._file = open(self.part, "ab", buffering=0)
            if not keep:
                self._write(self._header())
        else:
            self._file = open(self.part, "wb", buffering=0)
            self._write(self._header())
        return self

    def write(self, carried: Optional[list[str]], payload) -> None:
        text = self._encode(carried, payload)
        self._buffer.append(text)
        self._buffered += len(text)
        self.rows += 1
        if self._buffered >= self.flush_bytes or time.monotonic() - self._last_flush >= self.flush_seconds:
            self.flush()

    def flush(self) -> None:
        if self._buffer:
            # taken out first: if writing fails half-way, the rows are never written a second time (a cut-off
            # last row is what --resume expects from a stopped run)
            text, self._buffer, self._buffered = "".join(self._buffer), [], 0
            self._write(text)
        self._last_flush = time.monotonic()

    def _write(self, text: str) -> None:
        if not text:
            return
        data = memoryview(text.encode("utf-8"))
        while data:
            written = self._file.write(data)
            data = data[written:]
        if isinstance(self._file, _StdoutBytes):
            self._file.flush()

    def _close(self) -> None:
        self.flush()
        if self._file is not None:
            self._file.close()
            self._file = None

    def commit(self) -> Optional[Path]:
        """Finish the file and rename it into place; returns the final path (None for stdout)."""
        self._close()
        if self.path is None:
            return None
        os.replace(self.part, self.path)
        return self.path

    def abort(self) -> Optional[Path]:
        """Stop writing, keep what is written as `<path>.part` (for --resume); returns that path."""
        self._close()
        return self.part

    def discard(self) -> None:
        """Stop writing and remove the partial file (nothing worth resuming)."""
        self._close()
        if self.part is not None and self.part.exists():
            self.part.unlink()


class _StdoutBytes:
    def __init__(self):
        self._stream = sys.stdout.buffer if hasattr(sys.stdout, "buffer") else None

    def write(self, data) -> int:
        if self._stream is not None:
            return self._stream.write(data) or len(data)
        sys.stdout.write(bytes(data).decode("utf-8"))
        return len(data)

    def flush(self):
        (self._stream or sys.stdout).flush()

    def close(self):
        self.flush()


def _copy_prefix(source: Path, target: Path, length: int) -> None:
    with open(source, "rb") as src, open(target, "wb") as dst:
        remaining = length
        while remaining > 0:
            chunk = src.read(min(remaining, 1 << 20))
            if not chunk:
                break
            dst.write(chunk)
            remaining -= len(chunk)


class JsonlWriter(Writer):
    """One JSON object per line; `payload` is the already-serialised line (workers serialise)."""

    format = "jsonl"

    def _encode(self, carried, payload: str) -> str:
        return payload + "\n"

    def _scan(self, path: Path, keys: set) -> int:
        good = 0
        with open(path, "rb") as f:
            for number, line in enumerate(f, start=1):
                if not line.endswith(b"\n"):
                    break  # a row cut off by a kill: dropped, resolved again
                try:
                    value = json.loads(line)
                except ValueError:
                    if not f.read(1):
                        break  # the last line, cut off
                    raise FormatError(f"第 {number} 行不是 JSON，无法据此续跑（--resume）", str(path)) from None
                if isinstance(value, dict):
                    keys.add(_result_key(value.get("id"), (value.get("error") or {}).get("row")))
                    self.done.rows += 1
                good += len(line)
        return good


def _id_column(columns: list[str]) -> Optional[int]:
    """Which carried column holds the id (by the same aliases the reader uses), if any."""
    return next((i for i, h in enumerate(columns) if column_target(h) == ("field", "id")), None)


def _result_key(matter_id, row) -> tuple:
    text = "" if matter_id is None else str(matter_id).strip()
    if text:
        return ("id", text)
    try:
        return ("row", int(row))
    except (TypeError, ValueError):
        return ("row", None)


class CsvWriter(Writer):
    """UTF-8 with BOM (Excel opens it correctly), CRLF records; the input columns, then RESULT_COLUMNS."""

    format = "csv"

    def __init__(self, path, columns, extra: Sequence[str] = RESULT_COLUMNS):
        super().__init__(path, columns)
        self.extra = list(extra)
        self._text = io.StringIO()
        self._csv = csv.writer(self._text, lineterminator="\r\n")

    def _line(self, cells) -> str:
        self._text.seek(0)
        self._text.truncate()
        self._csv.writerow(cells)
        return self._text.getvalue()

    def _header(self) -> str:
        return "\ufeff" + self._line([*self.columns, *self.extra])

    def _encode(self, carried, payload) -> str:
        return self._line([*carried, *payload])

    def _scan(self, path: Path, keys: set) -> int:
        with open(path, "rb") as f:
            positions = _LineTracker(f)
            reader = csv.reader(positions)
            good = 0
            header = None
            id_at = row_at = None
            try:
                for cells in reader:
                    if not positions.ended_line:
                        break  # the record was cut off
                    if header is None:
                        header = [c.lstrip("\ufeff") for c in cells]
                        if header[len(self.columns):] != self.extra or header[:len(self.columns)] != self.columns:
                            raise FormatError("已有输出的列与本次不同，无法续跑（--resume）；请换一个输出文件", str(path))
                        id_at = _id_column(self.columns)
                        row_at = len(self.columns) + _ROW_COLUMN
                    else:
                        matter_id = cells[id_at] if id_at is not None and id_at < len(cells) else None
                        row = cells[row_at] if row_at < len(cells) else None
                        keys.add(_result_key(matter_id, row))
                        self.done.rows += 1
                    good = positions.offset
            except csv.Error:
                pass  # an open quote at the end: the record was cut off
        return good


class _LineTracker:
    """Feeds csv.reader decoded lines and remembers the byte offset after the last line handed out."""

    def __init__(self, f: BinaryIO):
        self._f, self.offset, self.ended_line = f, 0, True

    def __iter__(self):
        return self

    def __next__(self) -> str:
        line = self._f.readline()
        if not line:
            raise StopIteration
        self.offset += len(line)
        self.ended_line = line.endswith(b"\n")
        return line.decode("utf-8-sig" if self.offset == len(line) else "utf-8", errors="replace")


class XlsxWriter(Writer):
    """One sheet, openpyxl write-only mode (rows stream to disk); readable column widths, frozen header.

    XLSX cannot be appended to: --resume copies the existing rows into the new file first.
    """

    format = "xlsx"
    WIDTHS = {"标题": 40, "牵头部门": 28, "配合部门": 40, "上报至": 30, "依据条款": 40, "判断说明": 60, "错误说明": 40,
              "移交": 30, "义务": 30, "冲突候选部门": 30, "规则库哈希": 20}

    def __init__(self, path, columns, extra: Sequence[str] = RESULT_COLUMNS):
        if path in (None, "-"):
            raise FormatError("XLSX 不能写到标准输出；请用 -o 指定 .xlsx 文件")
        super().__init__(path, columns)
        self.extra = list(extra)
        self._book = self._sheet = None
        self._previous: Optional[Path] = None

    def open(self, resume: bool = False) -> "XlsxWriter":
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Font
        from openpyxl.utils import get_column_letter
        self.path.parent.mkdir(parents=True, exist_ok=True)
        source = None
        if resume:
            for candidate in (self.part, Path(str(self.part) + ".prev"), self.path):
                if candidate.exists() and _readable_xlsx(candidate):
                    source = candidate
                    break
        origin = source
        previous = Path(str(self.part) + ".prev")
        if source == self.part:  # read the old partial file while the new one is written
            os.replace(self.part, previous)
            source = previous
        if source == previous:
            self._previous = previous  # removed once the new file is saved
        self._book = Workbook(write_only=True)
        sheet = self._sheet = self._book.create_sheet("结果")
        header = [*self.columns, *self.extra]
        for i, name in enumerate(header, start=1):
            sheet.column_dimensions[get_column_letter(i)].width = self.WIDTHS.get(name, max(10, 2 * len(name) + 2))
        sheet.freeze_panes = "A2"
        bold = Font(bold=True)
        cells = []
        for name in header:
            cell = WriteOnlyCell(sheet, value=name)
            cell.font = bold
            cells.append(cell)
        sheet.append(cells)
        self._cell = WriteOnlyCell
        if source is not None:
            self.done.source = str(origin)
            self._copy(source, header)
        return self

    def _copy(self, source: Path, header: list[str]) -> None:
        from openpyxl import load_workbook
        file = open(source, "rb")
        book = load_workbook(file, read_only=True, data_only=True)
        try:
            sheet = book.worksheets[0]
            sheet.reset_dimensions()
            rows = sheet.iter_rows(values_only=True)
            found = [cell_text(v) for v in next(rows, ())]
            if found != header:
                raise FormatError("已有输出的列与本次不同，无法续跑（--resume）；请换一个输出文件", str(source))
            id_at = _id_column(self.columns)
            row_at = len(self.columns) + _ROW_COLUMN
            for values in rows:
                cells = [cell_text(v) for v in values]
                if not any(cells):
                    continue
                cells += [""] * (len(header) - len(cells))
                self.done.keys.add(_result_key(cells[id_at] if id_at is not None else None, cells[row_at]))
                self.done.rows += 1
                self._append(cells)
        finally:
            book.close()
            file.close()

    def _append(self, cells: list[str]) -> None:
        if self._sheet is None:
            raise FormatError("XLSX 输出已关闭")
        if self.rows + self.done.rows + 1 >= XLSX_MAX_ROWS:
            raise FormatError(f"XLSX 最多 {XLSX_MAX_ROWS:,} 行（含表头）；行数更多时请输出 CSV 或 JSONL", str(self.path))
        row = []
        for value in cells:
            if value and isinstance(value, str):
                value = _XML_ILLEGAL.sub("", value)
                if len(value) > XLSX_MAX_CELL:
                    value = value[:XLSX_MAX_CELL - 1] + "…"
                if value.startswith("="):  # text, never a formula
                    cell = self._cell(self._sheet, value=value)
                    cell.data_type = "s"
                    value = cell
            row.append(value if value != "" else None)
        self._sheet.append(row)

    def write(self, carried, payload) -> None:
        self._append([*carried, *payload])
        self.rows += 1

    def flush(self) -> None:
        pass

    def _close(self) -> None:
        if self._book is not None:
            book, self._book, self._sheet = self._book, None, None
            book.save(self.part)
        if self._previous is not None and self._previous.exists():
            self._previous.unlink()

    def discard(self) -> None:
        if self._book is not None:
            book, self._book, self._sheet = self._book, None, None
            book.close()  # unsaved: nothing reaches the disk
        if self.part.exists():
            self.part.unlink()


def _readable_xlsx(path: Path) -> bool:
    import zipfile
    return zipfile.is_zipfile(path)


def open_writer(path: Optional[str], fmt: str, columns: Optional[list[str]], resume: bool = False) -> Writer:
    """A results writer: JSONL (one resolution per line), or CSV / XLSX (`columns` then RESULT_COLUMNS)."""
    if fmt == "jsonl":
        return JsonlWriter(path, None).open(resume)
    if fmt == "csv":
        return CsvWriter(path, columns).open(resume)
    if fmt == "xlsx":
        return XlsxWriter(path, columns).open(resume)
    raise FormatError(f"未知的输出格式 '{fmt}'（可用：{'、'.join(FORMATS)}）")


def open_errors_writer(path: str, reader: Reader) -> Writer:
    """Invalid rows in the input's own format, to fix and run again: JSONL lines as read; CSV / XLSX rows
    with the input's columns plus 行号, 错误说明, 错误字段 (which the readers ignore)."""
    fmt = reader.format
    named = EXTENSIONS.get(Path(path).suffix.lower())
    if named and named != fmt:
        raise FormatError(f"--errors 文件按输入的格式（{fmt}）写出，扩展名应与之一致", path)
    if fmt == "jsonl":
        return JsonlWriter(path, None).open()
    if fmt == "csv":
        return CsvWriter(path, reader.columns, ERROR_COLUMNS).open()
    return XlsxWriter(path, reader.columns, ERROR_COLUMNS).open()


def error_payload(row: Row, message: str, field: Optional[str]):
    """What an errors writer gets for one invalid row (see open_errors_writer)."""
    if row.cells is None:
        return None, row.line if row.line is not None else json.dumps(row.matter or {}, ensure_ascii=False)
    return row.cells, [str(row.number), message, field or ""]
