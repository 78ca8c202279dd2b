"""Checking a rulebook's citations against the statute texts that travel with it (`ecorules check`).

E240 a cited article / paragraph / item the text does not have; W240 a citation (or part) that cannot be
checked; W241 a source outside the collection (once per source); W242 an internal source number in a
source's title; E241 an index entry whose text file is missing or not UTF-8. Counts for reports.
"""
from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Optional

from .citations import SOURCE_NUMBER, strip_title
from .errors import Diagnostic, Location
from .statutes import Collection, Statute, missing_text


# ---------------------------------------------------------------- checking a rulebook's citations
@dataclass(frozen=True)
class WrittenCite:
    """A rule's citation as written, and where: what `check_citations` needs of a rule."""

    rule_id: str
    title: str
    source: Optional[str]                 # the rule's source, else its file's (as written)
    cite: str                             # as written
    cite_at: Location                     # where the cite's value starts
    source_at: Optional[Location]         # where the source's value starts
    effective_until: Optional[dt.date] = None


def check_citations(collection: Collection, cites: Iterable[WrittenCite],
                    column: Optional[Callable[[Location, str, int], Location]] = None) -> list[Diagnostic]:
    """E240 a cited article / paragraph / item that the text does not have; W240 a citation (or part) that cannot
    be checked against a text in the collection; W241 a source outside the collection (once per source);
    W242 an internal source number (S17) in a source's title."""
    column = column or _Columns()
    diagnostics: list[Diagnostic] = []
    outside: dict[str, list] = {}
    numbered: set = set()
    for written in cites:
        full_source = written.source if written.source and "《" not in written.cite else None
        if written.source and SOURCE_NUMBER.search(written.source) and written.source not in numbered:
            numbered.add(written.source)
            where = column(written.source_at, written.source, SOURCE_NUMBER.search(written.source).start()) \
                if written.source_at else written.cite_at
            diagnostics.append(Diagnostic(
                "W242", f"依据名称中有内部来源编号 {SOURCE_NUMBER.search(written.source).group(0)}："
                        f"'{written.source}'", where, written.rule_id,
                "输出只应出现法规名称和条号；把来源编号移到注释（# 来源 S17）或 note 中。", "warning"))
        for piece in collection.parse(written.cite, full_source):
            where = column(written.cite_at, written.cite, piece.start)
            statute = collection.lookup(piece.document)
            if statute is None:
                if piece.document:
                    if written.source_at and piece.document == strip_title(written.source or ""):
                        where = column(written.source_at, written.source, 0)
                    outside.setdefault(piece.document, []).append((written, where))
                continue
            if not statute.available:
                continue   # E241 on the index already
            if piece.reference is None:
                near = statute.nearest(written.title)
                hint = f"条文中与规则标题最接近的是{near[0].label}：“{_clip(near[0].text())}”。" if near else ""
                diagnostics.append(Diagnostic(
                    "W240", f"依据“{piece.text}”不是可核对的条号（《{statute.title}》）", where, written.rule_id,
                    f"写明条号，如 第五条第二款；说明性文字放进 note。{hint}", "warning"))
                continue
            if written.effective_until and statute.effective and written.effective_until < statute.effective:
                diagnostics.append(Diagnostic(
                    "W240", f"{piece.reference.label}无法核对：规则至 {written.effective_until} 失效，而随附的"
                            f"《{statute.title}》自 {statute.effective} 施行，当时的版本不在随附文本中", where,
                    written.rule_id, "把当时施行的版本加入 statutes/ 并在 index.yaml 登记。", "warning"))
                continue
            finding = statute.find(piece.reference)
            if finding.found:
                continue
            if finding.status == "not_in_this_kind":
                diagnostics.append(Diagnostic("W240", f"{missing_text(finding)}（依据“{piece.text}”）", where,
                                              written.rule_id, _kind_hint(statute), "warning"))
                continue
            near = statute.nearest(written.title)
            hint = f"条文中与规则标题最接近的是{near[0].label}：“{_clip(near[0].text())}”。" if near else ""
            diagnostics.append(Diagnostic(
                "E240", f"《{statute.title}》{missing_text(finding)}（依据“{piece.text}”）", where, written.rule_id,
                f"请核对条号。{hint}".strip()))
    for title, uses in outside.items():
        first, where = uses[0]
        rules = list(dict.fromkeys(w.rule_id for w, _ in uses))
        shown = "、".join(rules[:5]) + (f" 等 {len(rules)} 条规则" if len(rules) > 5 else "")
        close = collection.close_titles(title)
        hint = (f"是否应为《{close[0]}》？" if close else
                "若是法律、法规或公开的规范性文件，把文本加入 statutes/ 并在 statutes/index.yaml 登记；"
                "否则在 note 中写明出处以便人工核对。")
        diagnostics.append(Diagnostic(
            "W241", f"依据《{title}》不在随附的法规文本中，条号无法核对（引用它的规则：{shown}）", where, first.rule_id,
            hint, "warning"))
    return diagnostics


def check_index(collection: Collection, where_file: Callable[[int], Location]) -> list[Diagnostic]:
    """E241 for an index entry whose text file is not there (with the files that are)."""
    found = []
    for i, statute in enumerate(collection.statutes):
        if statute.available:
            continue
        if statute.problem == "not_utf8":
            found.append(Diagnostic("E241", f"法规文本文件不是 UTF-8 编码：'{statute.path.name}'（《{statute.title}》）",
                                    where_file(i), suggestion="用 UTF-8 重新保存该文件。"))
            continue
        present = sorted(p.name for p in statute.path.parent.glob("*") if p.suffix in (".md", ".txt"))
        close = difflib.get_close_matches(statute.path.name, present, n=1, cutoff=0.6)
        found.append(Diagnostic(
            "E241", f"法规文本文件不存在：'{statute.path.name}'（《{statute.title}》）", where_file(i),
            suggestion=f"Did you mean '{close[0]}'?（是否应为 '{close[0]}'？）" if close else
            "把文本文件放在索引文件所在目录，file: 写文件名。"))
    return found


class _Columns:
    """Where a piece of a value is: the value's start plus the offset, when the value is written on its line as
    a plain or quoted scalar (read back from the file); else the value's start."""

    def __init__(self):
        self._lines: dict[str, list] = {}

    def __call__(self, where: Location, written: str, offset: int) -> Location:
        if not where.line:
            return where
        if where.file not in self._lines:
            try:
                self._lines[where.file] = Path(where.file).read_text(encoding="utf-8-sig").splitlines()
            except (OSError, UnicodeDecodeError):
                self._lines[where.file] = []
        lines = self._lines[where.file]
        line = lines[where.line - 1] if where.line <= len(lines) else ""
        rest = line[where.col - 1:]
        if rest.startswith(written):
            return Location(where.file, where.line, where.col + offset)
        if rest[:1] in ("'", '"') and rest[1:].startswith(written):
            return Location(where.file, where.line, where.col + 1 + offset)
        return where


def _kind_hint(statute: Statute) -> str:
    return ("实施意见的条款写作（一）至（二十一），总体要求写作“总体要求”。" if statute.is_policy
            else "法规条文写作 第X条、第X条第Y款、第X条第Y款第（Z）项。")


def _clip(text: str, size: int = 40) -> str:
    text = text.replace("\n", "")
    return text if len(text) <= size else text[:size] + "……"


@dataclass
class CitationCounts:
    """How many references a rulebook's citations hold, and how many could be checked."""

    checked: int = 0          # references to a text in the collection
    verified: int = 0         # ... that exist there
    unverifiable: int = 0     # references (or pieces) outside the collection or naming no provision
    missing: list = field(default_factory=list)


def count_citations(collection: Collection, cites: Iterable[str]) -> CitationCounts:
    """Counts over full citations (Rule.cite): for reports."""
    counts = CitationCounts()
    for cite in cites:
        for piece in collection.parse(cite):
            statute = collection.lookup(piece.document)
            if statute is None or piece.reference is None:
                counts.unverifiable += 1
                continue
            counts.checked += 1
            finding = statute.find(piece.reference)
            if finding.found:
                counts.verified += 1
            else:
                counts.missing.append((cite, piece.text))
    return counts
