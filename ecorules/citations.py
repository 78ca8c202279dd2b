"""Reading a citation: 《上海市大气污染防治条例》第五条第四款、第九十八条第一款；实施意见（五） → references.

A citation is read into references — article (条, with 之一), paragraph (款), item (项) — each tied to the
document it names (the rule's `source`, a 《title》 or a known short title inside the cite); Chinese numerals
both ways. The texts the references point into are statutes.py; checking a rulebook's citations against them
is citecheck.py. Nothing here prints.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Optional

# ---------------------------------------------------------------- Chinese numerals
_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000}
NUM = r"(?:\d+|[零〇一二两三四五六七八九十百千]+)"


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
_ARTICLE = re.compile(rf"第({NUM})条(?:之({NUM}))?(?:第({NUM})款)?(?:第?[（(]({NUM})[)）]项|第({NUM})项)?")
_RANGE = re.compile(rf"第({NUM})条至第({NUM})条")
_PARAGRAPH_ONLY = re.compile(rf"^第({NUM})款(?:第?[（(]({NUM})[)）]项|第({NUM})项)?")
_ITEM = re.compile(rf"(?<!第)[（(]({NUM})[)）](?!项)")
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
    document = strip_title(source) if source else None
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


def strip_title(title: str) -> str:
    title = title.strip()
    match = _TITLE.match(title)
    return match.group(1).strip() if match else title


# an internal source number (S17: the research notes' numbering) — never part of a citation shown to a reader
SOURCE_NUMBER = re.compile(r"(?<![A-Za-z])S\d{1,3}(?!\d)")

