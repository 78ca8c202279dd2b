"""Run a rulebook's own `tests:` — the checks legal staff write — and report what differs.

Expected departments are references, resolved in the test matter's jurisdiction exactly as rules are,
so `lead: zjw` in a 黄浦区 test means 黄浦区建设管理委.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from .model import Resolution
from .rulebook import RuleTest, Rulebook


@dataclass
class RuleTestOutcome:
    test: RuleTest
    resolution: Resolution
    differences: list[str] = field(default_factory=list)   # one line per differing expectation

    @property
    def passed(self) -> bool:
        return not self.differences

    @property
    def name(self) -> str:
        return self.test.spec.name


def run_rule_tests(engine, rulebook: Optional[Rulebook] = None) -> list[RuleTestOutcome]:
    rulebook = rulebook or engine.rulebook
    outcomes = []
    for test in rulebook.tests:
        resolution = engine.resolve(test.spec.matter)
        outcomes.append(RuleTestOutcome(test, resolution, compare(test, resolution, rulebook)))
    return outcomes


def _node(rulebook: Rulebook, reference: str, jurisdiction: str) -> Optional[str]:
    org = rulebook.org
    if org.has_node(reference):
        return reference
    try:
        return org.resolve(reference, jurisdiction)
    except KeyError:
        return None


def _show(ids) -> str:
    return "、".join(ids) if ids else "（无）"


def compare(test: RuleTest, resolution: Resolution, rulebook: Rulebook) -> list[str]:
    expect = test.spec.expect
    jurisdiction = resolution.jurisdiction or "sh"
    node = lambda ref: _node(rulebook, ref, jurisdiction)  # noqa: E731 - local shorthand
    diffs = []
    if expect.status and expect.status != resolution.status:
        diffs.append(f"status: 期望 {expect.status}，实际 {resolution.status}")
    if expect.lead is not None:
        want = node(expect.lead)
        got = resolution.lead.id if resolution.lead else None
        if want != got:
            diffs.append(f"lead: 期望 {want or expect.lead}，实际 {got or '（无）'}")
    got_assist = [d.id for d in resolution.assist]
    if expect.assist is not None:
        want = [node(a) for a in expect.assist]
        if set(want) != set(got_assist):
            diffs.append(f"assist: 期望 {_show(sorted(filter(None, want)))}，实际 {_show(sorted(got_assist))}")
    missing = [a for a in expect.assist_includes if node(a) not in got_assist]
    if missing:
        diffs.append(f"assist: 缺少 {_show(missing)}，实际 {_show(got_assist)}")
    if expect.candidates is not None:
        want = {node(c) for c in expect.candidates}
        got = {d.id for d in resolution.candidates}
        if want != got:
            diffs.append(f"candidates: 期望 {_show(sorted(filter(None, want)))}，实际 {_show(sorted(got))}")
    if expect.category is not None and expect.category != resolution.category:
        diffs.append(f"category: 期望 {expect.category}，实际 {resolution.category or '（无）'}")
    if "escalation" in expect.model_fields_set:
        if expect.escalation is None:
            if resolution.escalation is not None:
                diffs.append(f"escalation: 期望不上报，实际上报 {_show([d.id for d in resolution.escalation.to])}")
        elif resolution.escalation is None:
            diffs.append("escalation: 期望上报，实际未上报")
        else:
            want = {node(t) for t in expect.escalation.to}
            got = {d.id for d in resolution.escalation.to}
            if expect.escalation.to and want != got:
                diffs.append(f"escalation.to: 期望 {_show(sorted(filter(None, want)))}，实际 {_show(sorted(got))}")
            if expect.escalation.proposer:
                got_proposer = resolution.escalation.proposer.id if resolution.escalation.proposer else None
                if node(expect.escalation.proposer) != got_proposer:
                    diffs.append(f"escalation.proposer: 期望 {expect.escalation.proposer}，实际 {got_proposer or '（无）'}")
    if expect.transfers is not None:
        want = {node(t) for t in expect.transfers}
        got = {t.to.id for t in resolution.transfers}
        if want != got:
            diffs.append(f"transfers: 期望 {_show(sorted(filter(None, want)))}，实际 {_show(sorted(got))}")
    if expect.obligations is not None:
        got = {o.what for o in resolution.obligations}
        if set(expect.obligations) != got:
            diffs.append(f"obligations: 期望 {_show(sorted(expect.obligations))}，实际 {_show(sorted(got))}")
    return diffs
