"""--resume: what an existing output already holds, and whether continuing it would mix two runs.

An interrupted run leaves `OUTPUT.part` and, beside it, a manifest `OUTPUT.part.json`: the rulebook's hash,
the `as_of` used for rows without a date, and the input's identity (its size and a hash of its first
megabyte). Resuming checks the manifest first and refuses, saying what differs, when the rulebook or
`--as-of` changed or the input is another file (rows appended to the same input are allowed: only the part
of the input that the first run saw is compared). Then the output is scanned: the keys (id, or row number for
a row without one) of its complete rows are collected, a row cut off by a kill is dropped, and every row's
rulebook stamp must be this run's.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import os
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import BinaryIO, Iterator, Optional, Sequence

from ..errors import FormatError
from .columns import RESULT_COLUMNS, ROW_COLUMN, cell_text, id_column, restore
from .encoding import os_reason

PART_SUFFIX = ".part"
MANIFEST_SUFFIX = ".part.json"
IDENTITY_BYTES = 1 << 20
HASH_COLUMN = RESULT_COLUMNS.index("规则库哈希")


def part_path(path: str | os.PathLike) -> Path:
    """Where an output is written until it is complete."""
    path = Path(path)
    return path.with_name(path.name + PART_SUFFIX)


def manifest_path(path: str | os.PathLike) -> Path:
    """The manifest of an unfinished output, beside its `.part`."""
    path = Path(path)
    return path.with_name(path.name + MANIFEST_SUFFIX)


@dataclass
class Done:
    """What an existing output already holds (for --resume)."""

    keys: set
    rows: int = 0
    source: Optional[str] = None
    hashes: set = field(default_factory=set)  # rulebook hashes stamped on its rows


def result_key(matter_id, row) -> tuple:
    text = "" if matter_id is None else str(matter_id).strip()
    if text:
        return ("id", text)
    try:
        return ("row", int(row))
    except (TypeError, ValueError):
        return ("row", None)


# ------------------------------------------------------------------ the manifest
@dataclass(frozen=True)
class Manifest:
    rulebook_hash: str
    rulebook: str                    # name and version, for the message
    as_of: str                       # ISO date used for rows without their own
    input_path: Optional[str]        # None: stdin
    input_bytes: Optional[int]       # how much of the input the hash covers
    input_sha256: Optional[str]

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2) + "\n"


def input_identity(path: Optional[str], length: Optional[int] = None) -> tuple[Optional[int], Optional[str]]:
    """(bytes hashed, sha256) of the input's first megabyte (or first `length` bytes); (None, None) for stdin."""
    if path in (None, "-"):
        return None, None
    try:
        with open(path, "rb") as f:
            data = f.read(IDENTITY_BYTES if length is None else length)
    except OSError:
        return None, None
    return len(data), hashlib.sha256(data).hexdigest()


def new_manifest(rulebook_hash: str, rulebook: str, as_of: dt.date, source: Optional[str]) -> Manifest:
    size, digest = input_identity(source)
    return Manifest(rulebook_hash, rulebook, as_of.isoformat(), None if source in (None, "-") else str(source),
                    size, digest)


def read_manifest(output: Path) -> Optional[Manifest]:
    path = manifest_path(output)
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Manifest(**data)
    except (OSError, ValueError, TypeError) as exc:
        raise FormatError(f"续跑清单无法读取（{type(exc).__name__}）；删除它和 {part_path(output).name} 后重新运行",
                          str(path)) from None


def write_manifest(output: Path, manifest: Manifest) -> None:
    path = manifest_path(output)
    temporary = path.with_name(path.name + ".tmp")
    try:
        temporary.write_text(manifest.to_json(), encoding="utf-8")
        os.replace(temporary, path)
    except OSError as exc:
        raise FormatError(f"无法写入续跑清单：{os_reason(exc)}", str(path)) from None


def remove_manifest(output: Path) -> None:
    try:
        manifest_path(output).unlink()
    except FileNotFoundError:
        pass


def check_manifest(saved: Manifest, current: Manifest, output: Path) -> None:
    """Refuse to resume when the rulebook, the date or the input differs from the interrupted run's."""
    differences = []
    if saved.rulebook_hash != current.rulebook_hash:
        differences.append(f"规则库不同（上次 {saved.rulebook}，哈希 {saved.rulebook_hash[:12]}；本次 {current.rulebook}，"
                           f"哈希 {current.rulebook_hash[:12]}）")
    if saved.as_of != current.as_of:
        differences.append(f"判断日期不同（上次 --as-of {saved.as_of}，本次 {current.as_of}）")
    if saved.input_sha256 and current.input_path:
        size, digest = input_identity(current.input_path, saved.input_bytes)
        if size != saved.input_bytes or digest != saved.input_sha256:
            differences.append(f"输入文件不同（上次 {saved.input_path}，本次 {current.input_path}：开头的内容不一致）")
    if differences:
        raise FormatError("不能续跑（--resume）：" + "；".join(differences) + f"。继续会把两次运行的结果混在一起；请用与上次"
                          f"相同的规则库、--as-of 和输入，或删除 {part_path(output).name} 后重新运行", str(output))


def check_stamps(done: Done, rulebook_hash: str, output: Path) -> None:
    """Every row already in the output must carry this run's rulebook."""
    other = sorted(h for h in done.hashes if h and h != rulebook_hash)
    if other:
        raise FormatError(f"不能续跑（--resume）：已有输出中的行用的是另一个规则库（哈希 {other[0][:12]}，本次 "
                          f"{rulebook_hash[:12]}）。继续会把两次运行的结果混在一起；请换一个输出文件", done.source or str(output))


# ------------------------------------------------------------------ scanning an existing output
def resume_source(output: Path) -> Optional[Path]:
    """What a JSONL / CSV run continues: its `.part`, else the complete output, else nothing."""
    return next((p for p in (part_path(output), output) if p.exists()), None)


def scan_jsonl(path: Path, done: Done) -> int:
    """Collect the keys of the complete lines of a JSONL output; returns their byte length."""
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
                done.keys.add(result_key(value.get("id"), (value.get("error") or {}).get("row")))
                stamp = value.get("rulebook")
                if isinstance(stamp, dict):
                    done.hashes.add(stamp.get("hash"))
                done.rows += 1
            good += len(line)
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


def scan_csv(path: Path, columns: Sequence[str], extra: Sequence[str], done: Done) -> int:
    """Collect the keys of the complete records of a CSV output; returns their byte length."""
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
                    if header != [*columns, *extra]:
                        raise FormatError("已有输出的列与本次不同，无法续跑（--resume）；请换一个输出文件", str(path))
                    id_at = id_column(columns)
                    row_at = len(columns) + ROW_COLUMN
                else:
                    _collect(cells, id_at, row_at, len(columns), list(extra), done)
                good = positions.offset
        except csv.Error:
            pass  # an open quote at the end: the record was cut off
    return good


def _collect(cells: list[str], id_at: Optional[int], row_at: int, width: int, extra: list[str], done: Done) -> None:
    matter_id = cells[id_at] if id_at is not None and id_at < len(cells) else None
    if matter_id:
        matter_id = restore(matter_id)
    row = cells[row_at] if row_at < len(cells) else None
    done.keys.add(result_key(matter_id, row))
    if extra == list(RESULT_COLUMNS):
        at = width + HASH_COLUMN
        done.hashes.add(cells[at] if at < len(cells) else None)
    done.rows += 1


def copy_prefix(source: Path, target: Path, length: int) -> None:
    with open(source, "rb") as src, open(target, "wb") as dst:
        remaining = length
        while remaining > 0:
            chunk = src.read(min(remaining, 1 << 20))
            if not chunk:
                break
            dst.write(chunk)
            remaining -= len(chunk)


def readable_xlsx(path: Path) -> bool:
    return zipfile.is_zipfile(path)


def xlsx_source(output: Path) -> Optional[Path]:
    """What an XLSX run continues: a readable `.part`, an older `.part.prev`, else the complete output."""
    part = part_path(output)
    for candidate in (part, Path(str(part) + ".prev"), output):
        if candidate.exists() and readable_xlsx(candidate):
            return candidate
    return None


def xlsx_rows(source: Path, columns: Sequence[str], extra: Sequence[str], done: Done) -> Iterator[list[str]]:
    """The rows of an existing XLSX output (to copy into the new file), collecting their keys."""
    from openpyxl import load_workbook
    header = [*columns, *extra]
    file = open(source, "rb")
    book = load_workbook(file, read_only=True, data_only=True)
    try:
        sheet = book.worksheets[0]
        sheet.reset_dimensions()
        rows = sheet.iter_rows(values_only=True)
        found = [cell_text(v) for v in next(rows, ())]
        if found != header:
            raise FormatError("已有输出的列与本次不同，无法续跑（--resume）；请换一个输出文件", str(source))
        id_at = id_column(columns)
        row_at = len(columns) + ROW_COLUMN
        for values in rows:
            cells = [cell_text(v) for v in values]
            if not any(cells):
                continue
            cells += [""] * (len(header) - len(cells))
            _collect(cells, id_at, row_at, len(columns), list(extra), done)
            yield cells
    finally:
        book.close()
        file.close()
