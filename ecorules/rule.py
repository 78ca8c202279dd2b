"""One rule as loaded (its spec, where it was written, its place in rulebook order and its authority layer),
one rule test, and how a citation is written out in full. Pure records: no I/O."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Optional

import re

from . import spec as S
from .citations import SOURCE_NUMBER
from .conditions import Condition


@dataclass(frozen=True)
class ListLayer:
    """A jurisdiction's own published list (（五）/（六）), loaded as an authority layer (layers.py): its rules
    apply only to matters of `jurisdiction` and outrank the city rulebook's readings there."""

    jurisdiction: str          # a district code, or sh for a municipal list
    title: str
    document: str
    date: dt.date
    provenance: str            # source | inference
    sample: bool
    file: str                  # relative to the rulebook root
    issuer: Optional[str] = None
    url: Optional[str] = None




@dataclass(frozen=True)
class Rule:
    """One rule as loaded: its spec plus where it was written and its place in rulebook order."""

    id: str
    stage: str
    title: str
    cite: str                       # full citation: 《source》 + cite
    provenance: Optional[str]
    note: Optional[str]
    when: Optional[dict]
    priority: int
    effective_from: Optional[dt.date]
    effective_until: Optional[dt.date]
    overrides: tuple
    disputes: tuple
    lead: Optional[str]
    assist: tuple
    set: dict
    escalate: Optional[S.EscalateSpec]
    transfers: tuple
    obligations: tuple
    status: Optional[str]
    file: str
    line: int
    order: int
    condition: Optional[Condition] = field(default=None, compare=False, repr=False)  # `when`, parsed once
    layer: Optional[ListLayer] = None   # the published list this rule belongs to; None: the city rulebook

    @property
    def authority(self) -> int:
        """Rank in the order of authority, compared before priority: 1 a jurisdiction's published list
        (its rules only fire in that jurisdiction), 0 the city rulebook (ordered within by priority)."""
        return 1 if self.layer is not None else 0

    def in_force(self, day: dt.date) -> bool:
        if self.effective_from and day < self.effective_from:
            return False
        if self.effective_until and day > self.effective_until:
            return False
        return True

    def overlaps(self, other: "Rule") -> bool:
        """Is there a day on which both rules are in force?"""
        starts = [d for d in (self.effective_from, other.effective_from) if d]
        ends = [d for d in (self.effective_until, other.effective_until) if d]
        return not starts or not ends or max(starts) <= min(ends)

    @property
    def where(self) -> tuple:
        """(file, line): names one version of a rule — the same id may have versions in force at different times."""
        return (self.file, self.line)

    @property
    def label(self) -> str:
        """The id, plus the window when it is dated: how a version is named in reports."""
        if not (self.effective_from or self.effective_until):
            return self.id
        return f"{self.id}@{self.effective_from or '…'}~{self.effective_until or '…'}"


@dataclass(frozen=True)
class RuleTest:
    spec: S.RuleTestSpec
    file: str
    line: int



def full_cite(source: Optional[str], cite: str) -> str:
    """《source》cite, as results show it; internal source numbers (S17, the research notes' numbering) are
    never shown: a bracket holding one is dropped (check reports it as W242, to be moved into a comment)."""
    if not source or "《" in cite:
        return without_source_numbers(cite)
    title = source if source.startswith("《") else f"《{source}》"
    return without_source_numbers(f"{title}{cite}")


_NUMBERED_BRACKET = re.compile(r"[（(][^（()）]*?" + SOURCE_NUMBER.pattern + r"[^（()）]*?[)）]")


def without_source_numbers(text: str) -> str:
    """《…"三定"规定（据S17基本情况摘要）》 → 《…"三定"规定》; a bare S17 goes too."""
    if not SOURCE_NUMBER.search(text):
        return text
    text = _NUMBERED_BRACKET.sub("", text)
    return re.sub(r"\s*(?:据|见)?\s*" + SOURCE_NUMBER.pattern, "", text)
