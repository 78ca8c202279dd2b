"""Writers: results as JSON lines, CSV records or sheet rows; the --errors file; any text file, atomically.

Every output is written to `<name>.part` and renamed into place by `commit()`, so an unwritable, failed or
interrupted output never leaves a half-written file under the real name (an interrupted batch keeps the
`.part`, which `--resume` continues). CSV cells a spreadsheet would run as formulas get a leading `'`; XLSX
cells are always text, and a value longer than an Excel cell holds is cut with a visible mark and flagged in
the row's 提示 column.
"""
from __future__ import annotations

import csv
import io
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import BinaryIO, Optional, Sequence

from ..errors import FormatError
from .columns import (ERROR_COLUMNS, EXTENSIONS, FORMATS, NOTE_COLUMN, RESULT_COLUMNS, XLSX_MAX_CELL, XLSX_MAX_ROWS,
                      neutralise)
from .encoding import os_reason
from .resume import (Done, copy_prefix, part_path, resume_source, scan_csv, scan_jsonl, xlsx_rows, xlsx_source)

_XML_ILLEGAL = re.compile(r"[\000-\010\013\014\016-\037]")


def _unwritable(exc: OSError, path) -> FormatError:
    return FormatError(f"无法写入：{os_reason(exc)}", str(path))


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write a whole text file (UTF-8) through `<path>.part` and a rename; FormatError if it cannot be written."""
    path = Path(path)
    part = part_path(path)
    try:
        part.write_text(text, encoding="utf-8")
        os.replace(part, path)
    except OSError as exc:
        try:
            part.unlink()
        except OSError:
            pass
        raise _unwritable(exc, path) from None
    return path


def check_writable(path: str | os.PathLike) -> None:
    """Fail now (FormatError) if `path` could not be written later: its directory is missing or read-only,
    or it is a directory."""
    path = Path(path)
    if path.is_dir():
        raise FormatError("这是一个目录，不能作为输出文件", str(path))
    part = part_path(path)
    existed = part.exists()
    try:
        with open(part, "ab"):
            pass
    except OSError as exc:
        raise _unwritable(exc, path) from None
    if not existed:
        part.unlink()


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
        self.truncated = 0  # cells cut to fit an Excel cell (XLSX)
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

    def _scan(self, path: Path) -> int:
        """Collect the keys of an existing output into self.done; return the byte length of its complete rows."""
        raise NotImplementedError

    # -- lifecycle
    def open(self, resume: bool = False) -> "Writer":
        if self.path is None:
            if resume:
                raise FormatError("--resume 需要用 -o 指定输出文件")
            self._file = _StdoutBytes()
            self._write(self._header())
            return self
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            source = resume_source(self.path) if resume else None
            if source is not None:
                self.done.source = str(source)
                keep = self._scan(source)
                if source != self.part:
                    copy_prefix(source, self.part, keep)
                else:
                    with open(self.part, "r+b") as f:
                        f.truncate(keep)
                self._file = open(self.part, "ab", buffering=0)
                if not keep:
                    self._write(self._header())
            else:
                self._file = open(self.part, "wb", buffering=0)
                self._write(self._header())
        except OSError as exc:
            raise _unwritable(exc, self.path) from None
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
        try:
            while data:
                written = self._file.write(data)
                data = data[written:]
            if isinstance(self._file, _StdoutBytes):
                self._file.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise _unwritable(exc, self.path or "-") from None

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
        try:
            os.replace(self.part, self.path)
        except OSError as exc:
            raise _unwritable(exc, self.path) from None
        return self.path

    def abort(self) -> Optional[Path]:
        """Stop writing, keep what is written as `<path>.part` (for --resume); returns that path."""
        try:
            self._close()
        except Exception:
            pass
        return self.part

    def discard(self) -> None:
        """Stop writing and remove the partial file (nothing worth resuming)."""
        try:
            self._close()
        except Exception:
            pass
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


class JsonlWriter(Writer):
    """One JSON object per line; `payload` is the already-serialised line (workers serialise)."""

    format = "jsonl"

    def _encode(self, carried, payload: str) -> str:
        return payload + "\n"

    def _scan(self, path: Path) -> int:
        return scan_jsonl(path, self.done)


class CsvWriter(Writer):
    """UTF-8 with BOM (Excel opens it correctly), CRLF records; the input columns, then RESULT_COLUMNS.
    Cells that would run as a formula in a spreadsheet get a leading `'` (the readers take it off again)."""

    format = "csv"

    def __init__(self, path, columns, extra: Sequence[str] = RESULT_COLUMNS):
        super().__init__(path, columns)
        self.extra = list(extra)
        self._text = io.StringIO()
        self._csv = csv.writer(self._text, lineterminator="\r\n")

    def _line(self, cells) -> str:
        self._text.seek(0)
        self._text.truncate()
        self._csv.writerow([neutralise(c) if isinstance(c, str) else c for c in cells])
        return self._text.getvalue()

    def _header(self) -> str:
        return "\ufeff" + self._line([*self.columns, *self.extra])

    def _encode(self, carried, payload) -> str:
        return self._line([*carried, *payload])

    def _scan(self, path: Path) -> int:
        return scan_csv(path, self.columns, self.extra, self.done)


class XlsxWriter(Writer):
    """One sheet, openpyxl write-only mode (rows stream to disk): bold frozen header with an autofilter,
    readable column widths, every cell text (never a formula).

    XLSX cannot be appended to: --resume copies the existing rows into the new file first.
    """

    format = "xlsx"
    WIDTHS = {"标题": 40, "事项": 40, "事项名称": 40, "工单标题": 40, "牵头部门": 28, "配合部门": 40, "上报至": 30,
              "依据条款": 40, "判断说明": 60, "错误说明": 40, "提示": 40, "移交": 30, "义务": 30, "冲突候选部门": 30,
              "判定类别": 20, "规则库哈希": 20, "判断状态": 16, "结论可靠性": 12}

    def __init__(self, path, columns, extra: Sequence[str] = RESULT_COLUMNS):
        if path in (None, "-"):
            raise FormatError("XLSX 不能写到标准输出；请用 -o 指定 .xlsx 文件")
        super().__init__(path, columns)
        self.extra = list(extra)
        self._book = self._sheet = None
        self._previous: Optional[Path] = None
        header = [*self.columns, *self.extra]
        self._width = len(header)
        self._note_at = header.index(NOTE_COLUMN) if NOTE_COLUMN in self.extra else None

    def open(self, resume: bool = False) -> "XlsxWriter":
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Font
        from openpyxl.utils import get_column_letter
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.part, "ab"):  # fails now, not after the whole run, when the directory is not writable
                pass
        except OSError as exc:
            raise _unwritable(exc, self.path) from None
        source = xlsx_source(self.path) if resume else None
        origin = source
        previous = Path(str(self.part) + ".prev")
        if source == self.part:  # read the old partial file while the new one is written
            os.replace(self.part, previous)
            source = previous
        elif source is None or source == self.path:
            try:
                if self.part.stat().st_size == 0:
                    self.part.unlink()  # only the probe above
            except OSError:
                pass
        if source == previous:
            self._previous = previous  # removed once the new file is saved
        self._book = Workbook(write_only=True)
        sheet = self._sheet = self._book.create_sheet("结果")
        header = [*self.columns, *self.extra]
        for i, name in enumerate(header, start=1):
            sheet.column_dimensions[get_column_letter(i)].width = self.WIDTHS.get(name, max(10, 2 * len(name) + 2))
        sheet.freeze_panes = "A2"
        self._last_column = get_column_letter(max(1, len(header)))
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
            for cells in xlsx_rows(source, self.columns, self.extra, self.done):
                self._append(cells)
        return self

    def _append(self, cells: list[str]) -> None:
        if self._sheet is None:
            raise FormatError("XLSX 输出已关闭")
        if self.rows + self.done.rows + 1 >= XLSX_MAX_ROWS:
            raise FormatError(f"XLSX 最多 {XLSX_MAX_ROWS:,} 行（含表头）；行数更多时请输出 CSV 或 JSONL", str(self.path))
        cells = list(cells)
        cut = []
        for i, value in enumerate(cells):
            if isinstance(value, str) and len(value) > XLSX_MAX_CELL:
                cut.append((i, len(value)))
        if cut:
            self.truncated += len(cut)
            for i, length in cut:
                mark = f"…〔原文 {length:,} 字，超出 Excel 单元格 {XLSX_MAX_CELL:,} 字上限，已截断；完整内容见 CSV 或 JSONL 输出〕"
                cells[i] = cells[i][:XLSX_MAX_CELL - len(mark)] + mark
            if self._note_at is not None:
                while len(cells) <= self._note_at:
                    cells.append("")
                names = [*self.columns, *self.extra]
                note = "；".join(f"“{names[i] if i < len(names) else i + 1}”列超出 Excel 单元格上限，已截断" for i, _ in cut)
                cells[self._note_at] = "；".join(c for c in (cells[self._note_at], note) if c)[:XLSX_MAX_CELL]
        row = []
        for value in cells:
            if value and isinstance(value, str):
                value = _XML_ILLEGAL.sub("", value)
                cell = self._cell(self._sheet, value=value)
                cell.data_type = "s"  # text, never a formula or a number
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
            book, sheet, self._book, self._sheet = self._book, self._sheet, None, None
            sheet.auto_filter.ref = f"A1:{self._last_column}{self.rows + self.done.rows + 1}"
            try:
                book.save(self.part)
            except OSError as exc:
                raise _unwritable(exc, self.path) from None
        if self._previous is not None and self._previous.exists():
            self._previous.unlink()

    def discard(self) -> None:
        if self._book is not None:
            book, self._book, self._sheet = self._book, None, None
            book.close()  # unsaved: nothing reaches the disk
        if self.part.exists():
            self.part.unlink()


def open_writer(path: Optional[str], fmt: str, columns: Optional[list[str]], resume: bool = False) -> Writer:
    """A results writer: JSONL (one resolution per line), or CSV / XLSX (`columns` then RESULT_COLUMNS)."""
    if fmt == "jsonl":
        return JsonlWriter(path, None).open(resume)
    if fmt == "csv":
        return CsvWriter(path, columns).open(resume)
    if fmt == "xlsx":
        return XlsxWriter(path, columns).open(resume)
    raise FormatError(f"未知的输出格式 '{fmt}'（可用：{'、'.join(FORMATS)}）")


def open_errors_writer(path: str, reader) -> Writer:
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


def error_payload(row, message: str, field: Optional[str]):
    """What an errors writer gets for one invalid row (see open_errors_writer)."""
    if row.cells is None:
        return None, row.line if row.line is not None else json.dumps(row.matter or {}, ensure_ascii=False)
    return row.cells, [str(row.number), message, field or ""]


def _identity(path: str) -> tuple:
    try:
        st = os.stat(path)
        return ("inode", st.st_dev, st.st_ino)
    except OSError:
        return ("path", str(Path(path).resolve()))


def check_distinct(paths: dict[str, Optional[str]]) -> None:
    """Refuse (FormatError) when two of the named files are one file — by device and inode when both exist
    (symlinks and hard links included), by resolved path otherwise; `None` and '-' (stdin / stdout) are skipped."""
    seen: dict[tuple, str] = {}
    for label, path in paths.items():
        if path in (None, "-"):
            continue
        key = _identity(str(path))
        keys = {key, ("path", str(Path(path).resolve()))}
        clash = next((seen[k] for k in keys if k in seen), None)
        if clash:
            raise FormatError(f"{clash}和{label}是同一个文件，写出会毁掉它；请为{label}换一个文件名", str(path))
        for k in keys:
            seen[k] = label
