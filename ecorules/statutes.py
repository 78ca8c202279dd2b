"""The statute texts that travel with a rulebook, and quoting them.

`statutes/index.yaml` (a `statutes:` file) names each text, its short titles, its version and the date that
version took effect. A statute's text is split into articles → paragraphs → items; the policy 沪环督〔2024〕123号
(a normative document) into its preamble (总体要求 / 工作原则) and items （一）…（二十一）. `quotes` gives the
cited sentences for `explain --quote`. Nothing here prints, and nothing is cached beyond one Collection.
"""
from __future__ import annotations

import datetime as dt
import difflib
import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional

from .citations import NUM, Cited, Reference, cn_number, cn_numeral, parse_citation, strip_title


# ---------------------------------------------------------------- statute texts
@dataclass(frozen=True)
class Paragraph:
    text: str
    items: tuple = ()     # the item lines （一）… that belong to this paragraph


@dataclass(frozen=True)
class Article:
    label: str            # 第九十八条 / （五） / 总体要求
    key: tuple            # (number, sub)
    chapter: str
    paragraphs: tuple

    def text(self) -> str:
        return "\n".join(line for p in self.paragraphs for line in (p.text, *p.items))


_HEAD = re.compile(rf"^第({NUM})条(?:之({NUM}))?(?:[ \u3000]+|$)(.*)$")
_ITEM_LINE = re.compile(rf"^[（(]({NUM})[)）]\s*")
_SECTION = re.compile(r"^[一二三四五六七八九十]+、")
_ENDS_SENTENCE = tuple("。；：！？”」）)")


def split_articles(text: str) -> dict[tuple, Article]:
    """A statute's text (LawRefBook Markdown) → {(number, sub): Article}, in order.

    An article head is a line starting 第X条 (or 第X条之一) whose number follows the previous one; any
    other line starting 第X条 is text. Item lines （一）… belong to the paragraph before them."""
    body = text.split("<!-- INFO END -->", 1)[-1]
    articles: dict[tuple, dict] = {}
    current: Optional[dict] = None
    chapter, last = "", (0, 0)
    for raw in body.splitlines():
        line = raw.strip().replace("\u3000", " ").strip()
        if not line:
            continue
        if line.startswith("#"):
            chapter = line.lstrip("#").strip()
            continue
        head = _HEAD.match(line)
        if head:
            number = cn_number(head.group(1))
            sub = cn_number(head.group(2)) if head.group(2) else 0
            if (sub == 0 and number == last[0] + 1) or (sub and number == last[0] and sub == last[1] + 1):
                current = {"label": line[:head.start(3)].strip(), "key": (number, sub), "chapter": chapter,
                           "paragraphs": [[head.group(3).strip(), []]]}
                articles[(number, sub)] = current
                last = (number, sub)
                continue
        if current is None:
            continue
        if _ITEM_LINE.match(line) and current["paragraphs"]:
            current["paragraphs"][-1][1].append(line)
        else:
            current["paragraphs"].append([line, []])
    return {key: Article(a["label"], key, a["chapter"], tuple(Paragraph(t, tuple(i)) for t, i in a["paragraphs"]))
            for key, a in articles.items()}


def split_policy(text: str, title: str) -> dict[tuple, Article]:
    """The policy's text → {(0, 0): preamble, (n, 0): item （n）}. Lines broken at page ends are joined."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    try:
        start = max(i for i, line in enumerate(lines) if line == title) + 1
    except ValueError:
        start = 0
    units: dict[tuple, dict] = {}
    current = {"label": "总体要求", "key": (0, 0), "chapter": "", "lines": []}
    units[(0, 0)] = current
    chapter = ""
    for line in lines[start:]:
        if _SECTION.match(line):
            chapter, current = line, None
            continue
        item = _ITEM_LINE.match(line)
        if item:
            number = cn_number(item.group(1))
            current = {"label": f"（{item.group(1)}）", "key": (number, 0), "chapter": chapter,
                       "lines": [line[item.end():]]}
            units[(number, 0)] = current
            continue
        if current is None:
            continue
        if current["lines"] and not current["lines"][-1].endswith(_ENDS_SENTENCE):
            current["lines"][-1] += line          # a paragraph broken across a page
        else:
            current["lines"].append(line)
    return {key: Article(u["label"], key, u["chapter"], tuple(Paragraph(t) for t in u["lines"]))
            for key, u in units.items() if u["lines"]}


@dataclass
class Statute:
    """One text of the collection; its articles are read on first use."""

    title: str
    aliases: tuple
    path: Path
    kind: str
    version: Optional[dt.date]
    effective: Optional[dt.date]
    note: Optional[str] = None

    @property
    def is_policy(self) -> bool:
        return self.kind == "normative_document"

    @functools.cached_property
    def _text(self) -> tuple[Optional[str], Optional[str]]:
        """(text, None), or (None, why it cannot be read)."""
        if not self.path.is_file():
            return None, "missing"
        try:
            return self.path.read_text(encoding="utf-8-sig"), None
        except UnicodeDecodeError:
            return None, "not_utf8"
        except OSError:
            return None, "missing"

    @property
    def available(self) -> bool:
        return self._text[0] is not None

    @property
    def problem(self) -> Optional[str]:
        """Why the text cannot be read: "missing" | "not_utf8"; None when it can."""
        return self._text[1]

    @functools.cached_property
    def articles(self) -> dict[tuple, Article]:
        text = self._text[0]
        if text is None:
            return {}
        return split_policy(text, self.title) if self.is_policy else split_articles(text)

    @property
    def count(self) -> int:
        """Articles (the policy: items, without the preamble)."""
        return sum(1 for key in self.articles if key != (0, 0))

    @property
    def version_label(self) -> str:
        if self.version:
            return f"{self.version.isoformat()} 版本"
        return f"{self.effective.isoformat()} 施行文本" if self.effective else "版本日期不详的文本"

    def in_force(self, day: dt.date) -> bool:
        """Is this text the one in force on `day`? False when the day is before it took effect (the collection
        holds no earlier version); a later amendment cannot be known from the collection."""
        return self.effective is None or day >= self.effective

    def find(self, ref: Reference) -> "Finding":
        """Does the provision exist in this text? With the text cited when it does."""
        if self.is_policy and ref.kind == "article":
            return Finding(self, ref, "not_in_this_kind")
        if not self.is_policy and ref.kind in ("item", "preamble"):
            return Finding(self, ref, "not_in_this_kind")
        article = self.articles.get(ref.key)
        if article is None:
            return Finding(self, ref, "no_article")
        paragraphs = article.paragraphs
        if ref.paragraph is not None:
            if ref.paragraph < 1 or ref.paragraph > len(paragraphs):
                return Finding(self, ref, "no_paragraph", article, detail=len(paragraphs))
            paragraphs = (paragraphs[ref.paragraph - 1],)
        if ref.item is not None:
            holder = next((p for p in paragraphs if p.items), None)
            count = len(holder.items) if holder else 0
            if ref.item < 1 or ref.item > count:
                return Finding(self, ref, "no_item", article, detail=count)
            return Finding(self, ref, "found", article, (holder.text, holder.items[ref.item - 1]))
        lines = tuple(line for p in paragraphs for line in (p.text, *p.items))
        return Finding(self, ref, "found", article, lines)

    def nearest(self, words: str, count: int = 1) -> list[Article]:
        """The articles whose text shares most two-character words with `words` (a rule's title)."""
        wanted = _bigrams(words)
        if not wanted:
            return []
        scored = []
        for article in self.articles.values():
            text = article.text()
            score = sum(1 for b in wanted if b in text)
            if score >= 2:
                scored.append((-score, article.key, article))
        return [a for _, _, a in sorted(scored)[:count]]


_STOP = {"牵头", "部门", "负责", "管理", "事项", "监督", "由市", "由区", "配合", "主管", "行政", "工作"}


def _bigrams(text: str) -> set:
    chars = [c for c in text if "\u4e00" <= c <= "\u9fff"]
    return {a + b for a, b in zip(chars, chars[1:])} - _STOP


@dataclass(frozen=True)
class Finding:
    statute: Statute
    reference: Reference
    status: str                       # found | no_article | no_paragraph | no_item | not_in_this_kind
    article: Optional[Article] = None
    lines: tuple = ()                 # the cited text, when found
    detail: int = 0                   # how many paragraphs / items there are, when one is missing

    @property
    def found(self) -> bool:
        return self.status == "found"


class Collection:
    """The statute texts of a rulebook: looked up by title or short title."""

    def __init__(self, statutes: Iterable[Statute], provenance: Optional[str] = None, index: str = ""):
        self.statutes = tuple(statutes)
        self.provenance = provenance
        self.index = index          # the index file, as shown in diagnostics
        self._names: dict[str, Statute] = {}
        for statute in self.statutes:
            for name in (statute.title, *statute.aliases):
                self._names.setdefault(_normal(name), statute)

    @classmethod
    def from_spec(cls, spec, directory: Path, index: str = "") -> "Collection":
        """From a loaded `statutes:` file (spec.StatutesFile) whose texts are in `directory`."""
        return cls((Statute(s.title, tuple(s.aliases), Path(directory) / s.file, s.kind, s.version, s.effective, s.note)
                    for s in spec.statutes), spec.provenance, index)

    @classmethod
    def from_directory(cls, directory) -> "Collection":
        """From `directory/index.yaml` (for callers without a rulebook)."""
        import yaml
        from .spec import StatutesFile
        directory = Path(directory)
        spec = StatutesFile.model_validate(yaml.safe_load((directory / "index.yaml").read_text(encoding="utf-8")))
        return cls.from_spec(spec, directory, str(directory / "index.yaml"))

    @property
    def aliases(self) -> tuple:
        return tuple(a for s in self.statutes for a in s.aliases)

    def lookup(self, title: Optional[str]) -> Optional[Statute]:
        if not title:
            return None
        return self._names.get(_normal(title))

    def close_titles(self, title: str) -> list[str]:
        names = [s.title for s in self.statutes] + list(self.aliases)
        return difflib.get_close_matches(_normal(title), [_normal(n) for n in names], n=1, cutoff=0.75)

    def parse(self, cite: str, source: Optional[str] = None) -> list[Cited]:
        return parse_citation(cite, source, aliases=("实施意见", *self.aliases))


def _normal(title: str) -> str:
    return re.sub(r"\s+", "", strip_title(title))


# ---------------------------------------------------------------- quoting
@dataclass(frozen=True)
class Quote:
    """The cited text of one reference, for a memo."""

    title: str                   # the statute's full title
    label: str                   # 第九十八条第一款 / （五）
    version: str                 # which text was quoted
    lines: tuple                 # the sentences; empty when not found
    problem: Optional[str] = None  # why nothing can be quoted (Chinese), or a caution about the version
    status: str = "found"        # a code for `problem`: found | later_version | outside | no_number | no_article |
    #                              no_paragraph | no_item | not_in_this_kind (explain words it in English)
    effective: Optional[dt.date] = None   # the text's effective date (for later_version)


def quotes(cite: str, collection: Optional[Collection], day: Optional[dt.date] = None) -> list[Quote]:
    """The text of every provision a (full) citation names; a Quote with `problem` where there is none."""
    found = []
    if collection is None:
        return found
    outside = set()
    for piece in collection.parse(cite):
        statute = collection.lookup(piece.document)
        if statute is None:
            if piece.document and piece.document not in outside:
                outside.add(piece.document)
                found.append(Quote(piece.document, "", "", (), "不在随附的法规文本中，未能引用原文", "outside"))
            continue
        if piece.reference is None:
            found.append(Quote(statute.title, piece.text, statute.version_label, (), "未写明条号，未能引用原文",
                               "no_number", statute.effective))
            continue
        finding = statute.find(piece.reference)
        caution = None
        if day and not statute.in_force(day):
            caution = f"随附文本自 {statute.effective} 施行，晚于判断日期 {day}；当时施行的版本条文可能不同"
        if finding.found:
            found.append(Quote(statute.title, piece.reference.label, statute.version_label, finding.lines, caution,
                               "later_version" if caution else "found", statute.effective))
        else:
            found.append(Quote(statute.title, piece.reference.label, statute.version_label, (),
                               missing_text(finding), finding.status, statute.effective))
    return found


def missing_text(finding: Finding) -> str:
    statute, ref = finding.statute, finding.reference
    if finding.status == "no_article":
        unit = "项" if statute.is_policy else "条"
        return f"随附文本（{statute.version_label}）没有{ref.label}，全文共 {statute.count} {unit}"
    if finding.status == "no_paragraph":
        return f"{finding.article.label}只有 {finding.detail} 款，没有第{cn_numeral(ref.paragraph)}款"
    if finding.status == "no_item":
        return f"{finding.article.label}只有 {finding.detail} 项，没有第（{cn_numeral(ref.item)}）项"
    return (f"《{statute.title}》按（一）（二）…分项，没有“条”" if statute.is_policy
            else f"《{statute.title}》按条编号，{ref.label}不是条号，无法确定所指条文")
