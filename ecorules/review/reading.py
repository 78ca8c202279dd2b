"""Reading a draft: DOCX, Markdown / plain text, or an XLSX task table → paragraphs and task tables.

Nothing here knows about numbering or departments; it only turns a file into text blocks (a paragraph with where
it was) and tables (a header and rows). A file that cannot be read raises ReviewError with one Chinese sentence that
says what was found — never a traceback.
"""
from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from ..errors import EcorulesError

INPUT_FORMATS = ("docx", "markdown", "text", "xlsx")
_SUFFIXES = {".docx": "docx", ".docm": "docx", ".md": "markdown", ".markdown": "markdown", ".txt": "text",
             ".text": "text", ".xlsx": "xlsx", ".xlsm": "xlsx"}
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"   # a Compound File: legacy .doc/.xls, or an encrypted OOXML package
_ENCRYPTED = "EncryptionInfo".encode("utf-16-le")


class ReviewError(EcorulesError):
    """A draft that cannot be reviewed (unreadable, unsupported, empty, no task column…); exit 1.

    `found` holds what was found instead (the columns of a table, the kind of file), for an API client.
    """

    def __init__(self, message: str, path: Optional[str] = None, found: Optional[list[str]] = None):
        self.message, self.path, self.found = message, path, list(found or [])
        super().__init__(f"{path}：{message}" if path else message)


@dataclass
class Block:
    """A paragraph of the draft (or one line of a cell), with where a reader finds it."""

    text: str
    where: str
    heading_level: Optional[int] = None   # Markdown `#` depth or a Word heading style, when the file says


@dataclass
class Table:
    """A table of the draft: its non-blank rows, each with where it is (the header is found among the first rows)."""

    rows: list[tuple[str, list[str]]]
    where: str


@dataclass
class Draft:
    path: str
    format: str
    blocks: list[Block] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not any(b.text.strip() for b in self.blocks) and not any(
            any(c.strip() for c in cells) for t in self.tables for _, cells in t.rows)


def draft_format(path: str, given: Optional[str] = None) -> str:
    if given:
        return given
    suffix = Path(path).suffix.lower()
    if suffix == ".pdf":
        raise ReviewError("不支持 PDF 草案（扫描件没有可读的文字，导出的 PDF 也无法可靠还原编号和表格）。"
                          "请把草案另存为 DOCX（Word）后再审查。", path, ["pdf"])
    if suffix in (".doc", ".wps"):
        raise ReviewError(f"不支持旧版 Word 格式（{suffix}）。请在 Word 或 WPS 中另存为 .docx 后再审查。", path, [suffix])
    if suffix in _SUFFIXES:
        return _SUFFIXES[suffix]
    raise ReviewError(f"无法从扩展名“{suffix or '（无）'}”判断草案格式；支持 .docx、.md、.txt、.xlsx。", path, [suffix])


def read_draft(path: str, fmt: Optional[str] = None) -> Draft:
    """The draft at `path` as blocks and tables; ReviewError when it cannot be read."""
    fmt = draft_format(path, fmt)
    try:
        head = Path(path).read_bytes()[:8] if Path(path).is_file() else None
    except OSError as exc:
        raise ReviewError(f"无法读取草案文件：{exc.strerror}", path) from None
    if head is None:
        raise ReviewError("草案文件不存在。", path)
    if head.startswith(b"%PDF"):
        raise ReviewError("该文件实为 PDF（文件头 %PDF）。不支持 PDF 草案，请另存为 DOCX 后再审查。", path, ["pdf"])
    if fmt == "docx":
        draft = _read_docx(path)
    elif fmt == "xlsx":
        draft = _read_xlsx(path)
    else:
        draft = _read_text(path, fmt)
    if draft.empty:
        raise ReviewError("草案是空的：没有读到任何文字。", path, [])
    return draft


# ------------------------------------------------------------------ DOCX
def _office_package(path: str, what: str) -> None:
    """Refuse an encrypted or corrupt Office file with a sentence saying which it is."""
    data = Path(path).read_bytes()
    if data.startswith(_OLE):
        if _ENCRYPTED in data:
            raise ReviewError(f"{what} 文件已加密（设有打开密码），无法读取。请取消密码后另存一份再审查。", path, ["encrypted"])
        raise ReviewError(f"该文件不是 {what}，而是旧版 Office 格式（.doc / .xls）。请另存为新格式后再审查。", path, ["ole"])
    if not zipfile.is_zipfile(path):
        raise ReviewError(f"{what} 文件已损坏或不是 {what}（不是有效的 Office Open XML 压缩包）。", path, ["corrupt"])


def _read_docx(path: str) -> Draft:
    _office_package(path, "DOCX")
    try:
        import docx  # python-docx
        from docx.table import Table as DocxTable
        from docx.text.paragraph import Paragraph
        document = docx.Document(path)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ReviewError(f"DOCX 文件已损坏，无法打开（{type(exc).__name__}）。", path, ["corrupt"]) from None
    except Exception as exc:   # python-docx raises its own PackageNotFoundError and lxml errors
        raise ReviewError(f"DOCX 文件已损坏，无法打开（{type(exc).__name__}）。", path, ["corrupt"]) from None
    draft = Draft(path, "docx")
    number = 0
    auto = _AutoNumbers(document)
    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            number += 1
            for line in (auto.label(item) + item.text).split("\n"):
                if line.strip():
                    draft.blocks.append(Block(line.strip(), f"第{number}段", _heading_level(item)))
        elif isinstance(item, DocxTable):
            rows = [[_cell_text(c.text) for c in row.cells] for row in item.rows]
            where = f"第{len(draft.tables) + 1}个表格"
            draft.tables.append(Table([(f"{where}第{i}行", cells) for i, cells in enumerate(rows, 1) if any(cells)],
                                      where))
    return draft


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_CN_DIGITS = "零一二三四五六七八九"


class _AutoNumbers:
    """Word's automatic list numbering, rendered as the text Word shows (`（一）`, `1.`), so that a draft numbered by
    Word splits like one whose numbers are typed. Counters run per list (numId) and restart below a higher level."""

    def __init__(self, document):
        self.levels: dict[str, dict[int, tuple[str, str, int]]] = {}   # numId → ilvl → (numFmt, lvlText, start)
        self.counters: dict[str, dict[int, int]] = {}
        try:
            numbering = document.part.numbering_part.element
        except (NotImplementedError, KeyError, AttributeError):
            return   # no numbering part: nothing is numbered automatically
        abstract = {}
        for node in numbering.findall(_W + "abstractNum"):
            levels = {}
            for lvl in node.findall(_W + "lvl"):
                fmt, text, start = (lvl.find(_W + k) for k in ("numFmt", "lvlText", "start"))
                ilvl = int(lvl.get(_W + "ilvl", "0"))
                levels[ilvl] = (fmt.get(_W + "val") if fmt is not None else "decimal",
                                text.get(_W + "val") if text is not None else f"%{ilvl + 1}.",
                                int(start.get(_W + "val")) if start is not None else 1)
            abstract[node.get(_W + "abstractNumId")] = levels
        for node in numbering.findall(_W + "num"):
            ref = node.find(_W + "abstractNumId")
            if ref is not None and ref.get(_W + "val") in abstract:
                self.levels[node.get(_W + "numId")] = abstract[ref.get(_W + "val")]

    @staticmethod
    def _num_pr(paragraph):
        ppr = paragraph._p.pPr
        if ppr is not None and ppr.numPr is not None:
            return ppr.numPr
        style = paragraph.style
        while style is not None:   # numbering set by the paragraph style (List Number …) or a style it is based on
            ppr = style.element.pPr
            if ppr is not None and ppr.numPr is not None:
                return ppr.numPr
            style = style.base_style
        return None

    def label(self, paragraph) -> str:
        if not self.levels or not paragraph.text.strip():
            return ""
        num_pr = self._num_pr(paragraph)
        if num_pr is None or num_pr.numId is None:
            return ""
        num_id = str(num_pr.numId.val)
        ilvl = int(num_pr.ilvl.val) if num_pr.ilvl is not None else 0
        levels = self.levels.get(num_id, {})
        if ilvl not in levels or levels[ilvl][0] in ("bullet", "none"):
            return ""
        counters = self.counters.setdefault(num_id, {})
        counters[ilvl] = counters.get(ilvl, levels[ilvl][2] - 1) + 1
        for deeper in [k for k in counters if k > ilvl]:
            del counters[deeper]

        def value(match):
            n = int(match.group(1)) - 1
            fmt, _, start = levels.get(n, ("decimal", "", 1))
            return _format_number(counters.get(n, start), fmt)
        return re.sub(r"%(\d)", value, levels[ilvl][1])


def _format_number(n: int, fmt: str) -> str:
    if fmt.startswith(("chineseCounting", "ideographTraditional", "japaneseCounting", "taiwaneseCounting")) and n < 100:
        tens, ones = divmod(n, 10)
        return ((_CN_DIGITS[tens] if tens > 1 else "") + ("十" if tens else "") + (_CN_DIGITS[ones] if ones else "")
                or "零")
    if fmt.startswith("decimalEnclosedCircle") and 1 <= n <= 20:
        return chr(0x245F + n)
    return str(n)


def _heading_level(paragraph) -> Optional[int]:
    name = (paragraph.style.name if paragraph.style is not None else "") or ""
    match = re.match(r"(?:Heading|标题)\s*(\d)", name)
    return int(match.group(1)) if match else None


def _cell_text(text) -> str:
    return re.sub(r"[ \t\u3000]+", " ", str(text or "")).strip()


# ------------------------------------------------------------------ Markdown / text
def _decode(data: bytes, path: str) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ReviewError("文本文件既不是 UTF-8 也不是 GB18030 编码。", path)


def _read_text(path: str, fmt: str) -> Draft:
    data = Path(path).read_bytes()
    if data.startswith(b"PK\x03\x04") or data.startswith(_OLE):
        raise ReviewError("该文件是 Office 文件，不是文本。请用 .docx / .xlsx 扩展名。", path, ["office"])
    text = _decode(data, path)
    draft = Draft(path, fmt)
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        if fmt == "markdown" and line.startswith("|"):
            start = i
            table_lines = []
            while i < len(lines) and lines[i].strip().startswith("|"):
                table_lines.append(lines[i].strip())
                i += 1
            table = _markdown_table(table_lines, start + 1)
            if table:
                draft.tables.append(table)
            continue
        if line:
            level = None
            if fmt == "markdown":
                heading = re.match(r"^(#{1,6})\s+", line)
                level = len(heading.group(1)) if heading else None
                line = _strip_markdown(line)
            if line:
                draft.blocks.append(Block(line, f"第{i + 1}行", level))
        i += 1
    return draft


def _strip_markdown(line: str) -> str:
    line = re.sub(r"^(#{1,6}|>|[-*+](?=\s))\s*", "", line)
    line = re.sub(r"(\*\*|__)(.+?)\1", r"\2", line)
    line = re.sub(r"(?<!\*)\*(?!\s)(.+?)(?<!\s)\*(?!\*)", r"\1", line)
    return line.strip()


def _markdown_table(lines: list[str], first_line: int) -> Optional[Table]:
    def cells(line):
        body = line.strip().strip("|")
        return [_strip_markdown(c.strip().replace("<br>", "\n")) for c in re.split(r"(?<!\\)\|", body)]
    rows = [(first_line + k, cells(line)) for k, line in enumerate(lines)
            if not re.fullmatch(r"\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?", line)]
    if not rows:
        return None
    return Table([(f"第{n}行", c) for n, c in rows], f"第{first_line}行起的表格")


# ------------------------------------------------------------------ XLSX
def _read_xlsx(path: str) -> Draft:
    _office_package(path, "XLSX")
    import openpyxl
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:   # openpyxl raises zipfile, KeyError and its own InvalidFileException
        raise ReviewError(f"XLSX 文件已损坏，无法打开（{type(exc).__name__}）。", path, ["corrupt"]) from None
    draft = Draft(path, "xlsx")
    try:
        for sheet in workbook.worksheets:
            rows = []
            for number, values in enumerate(sheet.iter_rows(values_only=True), 1):
                cells = [_cell_text(v) for v in values]
                if any(cells):
                    rows.append((number, cells))
            if not rows:
                continue
            draft.tables.append(Table([(f"工作表“{sheet.title}”第{n}行", c) for n, c in rows], f"工作表“{sheet.title}”"))
    finally:
        workbook.close()
    return draft
