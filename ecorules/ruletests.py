"""Run a rulebook's own `tests:` — the checks legal staff write — and report what differs.

Expected departments are references, resolved in the test matter's jurisdiction exactly as rules are,
so `lead: zjw` in a 黄浦区 test means 黄浦区建设管理委.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
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
    diffs += _place_and_named(expect, resolution, rulebook, test.spec.matter)
    return diffs


def _place_and_named(expect, resolution: Resolution, rulebook: Rulebook, matter: dict) -> list[str]:
    """jurisdiction, warnings (codes) and named (the first department the title names, as rules see it)."""
    diffs = []
    if expect.jurisdiction is not None and expect.jurisdiction != resolution.jurisdiction:
        diffs.append(f"jurisdiction: 期望 {expect.jurisdiction}，实际 {resolution.jurisdiction or '（无）'}")
    if expect.warnings is not None:
        got = [w.code for w in resolution.warnings]
        if sorted(expect.warnings) != sorted(got):
            diffs.append(f"warnings: 期望 {_show(sorted(expect.warnings))}，实际 {_show(sorted(got))}")
    if expect.named is not None and rulebook.mentions is not None and resolution.jurisdiction:
        found = rulebook.mentions.fact(rulebook.mentions.find(str(matter.get("title", "")), resolution.jurisdiction))
        named = found.get("named", {})
        for key, want in expect.named.model_dump(exclude_none=True).items():
            if named.get(key) != want:
                diffs.append(f"named.{key}: 期望 {want}，实际 {named.get(key, '（无）')}")
    return diffs


# ---------------------------------------------------------------- coverage
POLICY_ARTICLES = tuple("一 二 三 四 五 六 七 八 九 十 十一 十二 十三 十四 十五 十六 十七 十八 十九 二十 二十一".split())
_ARTICLE_RUN = re.compile(r"(?:实施意见|沪环督〔2024〕123号)》?((?:\s*[（(][一二三四五六七八九十]+[)）][、，,和及与]?)+)")
_ARTICLE = re.compile(r"[（(]([一二三四五六七八九十]+)[)）]")


def cited_articles(cite: str) -> set[str]:
    """The policy's articles （一）…（二十一） a citation names, e.g. '实施意见（七）（十）' → {'七', '十'}."""
    found = set()
    for run in _ARTICLE_RUN.findall(cite):
        found.update(a for a in _ARTICLE.findall(run) if a in POLICY_ARTICLES)
    return found


@dataclass
class Coverage:
    untested_rules: list[str]        # rule ids (id@from~until for a dated version) no test made fire
    uncited_articles: list[str]      # policy articles no rule cites, as （七）
    tested: int
    total: int


def coverage(rulebook: Rulebook, outcomes: list[RuleTestOutcome]) -> Coverage:
    exercised = {(b.file, b.line) for outcome in outcomes for b in outcome.resolution.basis}  # per version
    untested = [r.label for r in rulebook.rules if r.where not in exercised]
    cited = set().union(*(cited_articles(r.cite) for r in rulebook.rules)) if rulebook.rules else set()
    uncited = [f"（{a}）" for a in POLICY_ARTICLES if a not in cited]
    return Coverage(untested, uncited, len(rulebook.rules) - len(untested), len(rulebook.rules))


def junit_xml(outcomes: list[RuleTestOutcome], suite: str = "ecorules") -> str:
    """JUnit XML for CI systems: one testcase per rule test, a <failure> listing the differences."""
    root = ET.Element("testsuite", name=suite, tests=str(len(outcomes)),
                      failures=str(sum(not o.passed for o in outcomes)))
    for outcome in outcomes:
        case = ET.SubElement(root, "testcase", name=outcome.name, classname=outcome.test.file,
                             file=outcome.test.file, line=str(outcome.test.line))
        if not outcome.passed:
            failure = ET.SubElement(case, "failure", message=outcome.differences[0])
            failure.text = "\n".join(outcome.differences)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
