"""Citations that can be checked: read a rule's `cite`, find the text it cites, say whether it exists, quote it.

A citation such as 《上海市大气污染防治条例》第五条第四款、第九十八条第一款；实施意见（五） is read into
references — article (条, with 之一), paragraph (款), item (项) — each tied to the document it names (the
rule's `source`, a 《title》 or a known short title inside the cite). The documents are the texts that travel
with the rulebook: `statutes/index.yaml` (a `statutes:` file) names each text, its short titles, its version
and the date that version took effect. A statute's text is split into articles → paragraphs → items; the
policy 沪环督〔2024〕123号 (a normative document) into its preamble (总体要求 / 工作原则) and items （一）…（二十一）.

`check_citations` turns what cannot be found into diagnostics (E240 / W240 / W241 / W242); `quotes` gives the
cited sentences for `explain --quote`. Nothing here prints, and nothing is cached beyond one Collection.
"""
from __future__ import annotations

import datetime as dt
import difflib
import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Optional

from .errors import Diagnostic, Location

# ---------------------------------------------------------------- Chinese numerals
_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000}
_NUM = r"(?:\d+|[零〇一二两三四五六七八九十百千]+)"


def cn_number(text: str) -> int:
    """九十八 → 98, 一百零九 → 109, 十二 → 12, 21 → 21. Raises ValueError for anything else."""
    text = text.strip()
    if text.isdigit():
        return int(text)
    if not text:
        raise ValueError("empty numeral")
    total, current = 0, 0
    for ch in text:
        if ch in _DIGITS:
            current = _DIGITS[ch]
        elif ch in _UNITS:
            total += (current or 1) * _UNITS[ch]
            current = 0
        else:
            raise ValueError(f"not a Chinese numeral: {text!r}")
    return total + current


def cn_numeral(n: int) -> str:
    """98 → 九十八, 109 → 一百零九, 110 → 一百一十, 12 → 十二 (as articles are numbered)."""
    digits = "零一二三四五六七八九"
    if n < 0 or n >= 10000:
        return str(n)
    if n < 10:
        return digits[n]
    if n < 20:
        return "十" + (digits[n % 10] if n % 10 else "")
    if n < 100:
        return digits[n // 10] + "十" + (digits[n % 10] if n % 10 else "")
    head, rest = divmod(n, 100) if n < 1000 else divmod(n, 1000)
    unit = "百" if n < 1000 else "千"
    if rest == 0:
        return digits[head] + unit
    tail = cn_numeral(rest)
    if (n < 1000 and rest < 10) or (n >= 1000 and rest < 100):
        tail = "零" + tail
    elif rest < 20:
        tail = "一" + tail   # 一百一十条
    return digits[head] + unit + tail


# ---------------------------------------------------------------- references
@dataclass(frozen=True)
class Reference:
    """One cited provision. For the policy, `article` is the item number （五） → 5 and 0 is the preamble."""

    kind: str                          # "article" 第X条 | "item" （X） | "preamble" 总体要求
    article: int
    sub: int = 0                       # 第X条之一 → 1
    paragraph: Optional[int] = None    # 款
    item: Optional[int] = None         # 项

    @property
    def label(self) -> str:
        if self.kind == "preamble":
            return "总体要求"
        if self.kind == "item":
            return f"（{cn_numeral(self.article)}）"
        text = f"第{cn_numeral(self.article)}条" + (f"之{cn_numeral(self.sub)}" if self.sub else "")
        if self.paragraph:
            text += f"第{cn_numeral(self.paragraph)}款"
        if self.item:
            text += f"第（{cn_numeral(self.item)}）项"
        return text

    @property
    def key(self) -> tuple:
        return (self.article, self.sub)


@dataclass(frozen=True)
class Cited:
    """A piece of a citation: a reference (or None: words that name no provision) in a named document."""

    document: Optional[str]       # the title as written (《…》 stripped) or a short title; None: none named
    reference: Optional[Reference]
    text: str                     # the words as written
    start: int                    # offset of `text` in the citation


_SEPARATORS = "；;、，,"
_ARTICLE = re.compile(rf"第({_NUM})条(?:之({_NUM}))?(?:第({_NUM})款)?(?:第?[（(]({_NUM})[)）]项|第({_NUM})项)?")
_RANGE = re.compile(rf"第({_NUM})条至第({_NUM})条")
_PARAGRAPH_ONLY = re.compile(rf"^第({_NUM})款(?:第?[（(]({_NUM})[)）]项|第({_NUM})项)?")
_ITEM = re.compile(rf"(?<!第)[（(]({_NUM})[)）](?!项)")
_PREAMBLE = re.compile(r"总体要求|工作原则|序言")
_TITLE = re.compile(r"《([^》]+)》")


def _segments(text: str) -> list[tuple[str, int]]:
    """Split at 、；， outside brackets and quotes: [(segment, offset)]."""
    found, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "（(《“":
            depth += 1
        elif ch in "）)》”":
            depth = max(0, depth - 1)
        elif ch in _SEPARATORS and depth == 0:
            found.append((text[start:i], start))
            start = i + 1
    found.append((text[start:], start))
    return [(seg, off) for seg, off in found if seg.strip()]


def parse_citation(text: str, source: Optional[str] = None, aliases: Iterable[str] = ("实施意见",)) -> list[Cited]:
    """Every piece of a citation, in order. `source` is the document when the text names none; a 《title》
    or a short title from `aliases` at the start of a piece switches the document for it and what follows."""
    aliases = sorted(set(aliases), key=len, reverse=True)
    document = _strip_title(source) if source else None
    found: list[Cited] = []
    last_article: Optional[Reference] = None
    for segment, offset in _segments(text):
        lead = len(segment) - len(segment.lstrip())
        body, at = segment.strip(), offset + lead
        title = _TITLE.match(body)
        if title:
            document, body, at = title.group(1).strip(), body[title.end():], at + title.end()
            last_article = None
        else:
            alias = next((a for a in aliases if body.startswith(a)), None)
            if alias:
                document, body, at = alias, body[len(alias):], at + len(alias)
                last_article = None
        refs: list[tuple[Reference, str, int]] = []
        covered: list[tuple[int, int]] = []
        for match in _RANGE.finditer(body):
            first, last = cn_number(match.group(1)), cn_number(match.group(2))
            for number in range(first, last + 1) if 0 < last - first < 200 else (first, last):
                refs.append((Reference("article", number), match.group(0), at + match.start()))
            covered.append(match.span())
        for match in _ARTICLE.finditer(body):
            if any(a <= match.start() < b for a, b in covered):
                continue
            article, sub, paragraph, item1, item2 = match.groups()
            ref = Reference("article", cn_number(article), cn_number(sub) if sub else 0,
                            cn_number(paragraph) if paragraph else None,
                            cn_number(item1 or item2) if (item1 or item2) else None)
            refs.append((ref, match.group(0), at + match.start()))
            covered.append(match.span())
        if not refs and last_article is not None:
            match = _PARAGRAPH_ONLY.match(body)   # 第五十六条第一款、第二款: the article carries on
            if match:
                item = match.group(2) or match.group(3)
                ref = Reference("article", last_article.article, last_article.sub, cn_number(match.group(1)),
                                cn_number(item) if item else None)
                refs.append((ref, match.group(0), at))
        if not refs:
            preamble = _PREAMBLE.search(body)
            if preamble:
                refs.append((Reference("preamble", 0), body, at))
            for match in _ITEM.finditer(body):
                try:
                    refs.append((Reference("item", cn_number(match.group(1))), match.group(0), at + match.start()))
                except ValueError:
                    continue
        if refs:
            refs.sort(key=lambda r: r[2])
            for ref, written, start in refs:
                found.append(Cited(document, ref, written, start))
            articles = [r for r, _, _ in refs if r.kind == "article"]
            last_article = articles[-1] if articles else None
        else:
            found.append(Cited(document, None, body, at))
    return found


def _strip_title(title: str) -> str:
    title = title.strip()
    match = _TITLE.match(title)
    return match.group(1).strip() if match else title


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


_HEAD = re.compile(rf"^第({_NUM})条(?:之({_NUM}))?(?:[ \u3000]+|$)(.*)$")
_ITEM_LINE = re.compile(rf"^[（(]({_NUM})[)）]\s*")
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
    return re.sub(r"\s+", "", _strip_title(title))


# ---------------------------------------------------------------- quoting
@dataclass(frozen=True)
class Quote:
    """The cited text of one reference, for a memo."""

    title: str                   # the statute's full title
    label: str                   # 第九十八条第一款 / （五）
    version: str                 # which text was quoted
    lines: tuple                 # the sentences; empty when not found
    problem: Optional[str] = None  # why nothing can be quoted (Chinese), or a caution about the version


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
                found.append(Quote(piece.document, "", "", (), "不在随附的法规文本中，未能引用原文"))
            continue
        if piece.reference is None:
            found.append(Quote(statute.title, piece.text, statute.version_label, (), "未写明条号，未能引用原文"))
            continue
        finding = statute.find(piece.reference)
        caution = None
        if day and not statute.in_force(day):
            caution = f"随附文本自 {statute.effective} 施行，晚于判断日期 {day}；当时施行的版本条文可能不同"
        if finding.found:
            found.append(Quote(statute.title, piece.reference.label, statute.version_label, finding.lines, caution))
        else:
            found.append(Quote(statute.title, piece.reference.label, statute.version_label, (),
                               _missing_text(finding)))
    return found


def _missing_text(finding: Finding) -> str:
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


_SOURCE_NUMBER = re.compile(r"(?<![A-Za-z])S\d{1,3}(?!\d)")


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
        if written.source and _SOURCE_NUMBER.search(written.source) and written.source not in numbered:
            numbered.add(written.source)
            where = column(written.source_at, written.source, _SOURCE_NUMBER.search(written.source).start()) \
                if written.source_at else written.cite_at
            diagnostics.append(Diagnostic(
                "W242", f"依据名称中有内部来源编号 {_SOURCE_NUMBER.search(written.source).group(0)}："
                        f"'{written.source}'", where, written.rule_id,
                "输出只应出现法规名称和条号；把来源编号移到注释（# 来源 S17）或 note 中。", "warning"))
        for piece in collection.parse(written.cite, full_source):
            where = column(written.cite_at, written.cite, piece.start)
            statute = collection.lookup(piece.document)
            if statute is None:
                if piece.document:
                    if written.source_at and piece.document == _strip_title(written.source or ""):
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
                diagnostics.append(Diagnostic("W240", f"{_missing_text(finding)}（依据“{piece.text}”）", where,
                                              written.rule_id, _kind_hint(statute), "warning"))
                continue
            near = statute.nearest(written.title)
            hint = f"条文中与规则标题最接近的是{near[0].label}：“{_clip(near[0].text())}”。" if near else ""
            diagnostics.append(Diagnostic(
                "E240", f"《{statute.title}》{_missing_text(finding)}（依据“{piece.text}”）", where, written.rule_id,
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
        if statute._text[1] == "not_utf8":
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
