"""One rule as loaded (its spec, where it was written, its place in rulebook order and its authority layer),
one rule test, and how a citation is written out in full. Pure records: no I/O."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Optional

from . import spec as S
from .conditions import Condition



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
    if not source or "《" in cite:
        return cite
    title = source if source.startswith("《") else f"《{source}》"
    return f"{title}{cite}"
