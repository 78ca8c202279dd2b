"""Static analysis behind `ecorules check`: what loading alone cannot see.

* W310 a rule that can never fire (every alternative of its condition contradicts itself);
* W312 an `overrides` that can never apply (the two rules are never in force on the same day);
* W320 a static conflict: two assign rules of the same priority, neither overriding the other and not
  declared as a dispute (`disputes:`), whose conditions can hold together and whose leads differ —
  reported with a matter that triggers both, *verified by resolving it* with durable_rules;
* W330 a gap: a status (`unassigned`, `conflict`) at a level that no route rule escalates.

Witness matters are built from the alternatives of each rule's one parsed condition (conditions.dnf, as
compiled), text for `matches` from the pattern's tree (patterns.sample); they are checked by the
real engine, so a warning here is never a guess about what durable_rules would do.
"""
from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass, field
from typing import Optional

from .compiler import Feature
from .engine import Engine
from .patterns import sample
from .errors import Diagnostic, Location
from .orggraph import DISTRICT_CODES
from .rulebook import Rule, Rulebook, check_rulebook

_DOMAINS = {"level": ("municipal", "district"), "status": ("resolved", "conflict", "unassigned"),
            "district": DISTRICT_CODES}
_SAMPLE_DISTRICT = "huangpu"


def lint_rulebook(path: str | os.PathLike) -> tuple[Optional[Rulebook], list[Diagnostic]]:
    """check_rulebook plus the static analyses above (warnings), when the rulebook loads."""
    rulebook, diagnostics = check_rulebook(path)
    if rulebook is None:
        return rulebook, diagnostics
    with Engine(rulebook) as engine:
        analysis = _Analysis(rulebook, engine)
        diagnostics.extend(analysis.run())
    return rulebook, diagnostics


# ---------------------------------------------------------------- constraint solving on one alternative
@dataclass
class _Field:
    eq: set = field(default_factory=set)
    neq: set = field(default_factory=set)
    ranges: list = field(default_factory=list)
    exists: bool = False
    nexists: bool = False
    has: list = field(default_factory=list)
    hasnot: list = field(default_factory=list)


class Unsatisfiable(Exception):
    """The tests of an alternative contradict each other."""


class Unsupported(Exception):
    """The alternative uses a field no witness matter can set directly."""


_RANGE_OK = {"gt": lambda v, x: v > x, "gte": lambda v, x: v >= x, "lt": lambda v, x: v < x,
             "lte": lambda v, x: v <= x}


def _constraints(term: tuple) -> dict[str, _Field]:
    fields: dict[str, _Field] = {}
    for test in term:
        slot = fields.setdefault(test.path, _Field())
        if test.op == "eq":
            slot.eq.add(test.value)
        elif test.op == "neq":
            slot.neq.add(test.value)
        elif test.op in _RANGE_OK:
            slot.ranges.append((test.op, test.value))
        elif test.op == "exists":
            slot.exists = True
        elif test.op == "nexists":
            slot.nexists = True
        elif test.op == "has":
            slot.has.append(test.value)
        elif test.op == "hasnot":
            slot.hasnot.append(test.value)
    return fields


def _pick(path: str, slot: _Field, kind: str, features: dict[str, Feature]):
    """A value satisfying the slot, None for 'leave absent'; raises Unsatisfiable when none exists."""
    positive = slot.eq or slot.neq or slot.ranges or slot.exists or slot.has or slot.hasnot
    if slot.nexists:
        if positive:
            raise Unsatisfiable(f"'{path}' 既要求不存在又要求存在或取值")
        return None
    if len(slot.eq) > 1:
        raise Unsatisfiable(f"'{path}' 同时等于 {'、'.join(map(str, sorted(slot.eq, key=str)))}")
    if path in _DOMAINS and slot.eq and next(iter(slot.eq)) not in _DOMAINS[path]:
        raise Unsatisfiable(f"'{path}' 不可能等于 '{next(iter(slot.eq))}'")
    if slot.eq:
        value = next(iter(slot.eq))
    elif slot.has:
        value = "".join(_sample_text(features[f]) for f in slot.has)
    elif kind == "num":
        low = max((x + (1 if op == "gt" else 0) for op, x in slot.ranges if op in ("gt", "gte")), default=None)
        high = min((x - (1 if op == "lt" else 0) for op, x in slot.ranges if op in ("lt", "lte")), default=None)
        value = low if low is not None else high if high is not None else 1
        while value in slot.neq:
            value += 1
    elif kind == "bool":
        value = next((v for v in (True, False) if v not in slot.neq), None)
        if value is None:
            raise Unsatisfiable(f"'{path}' 既不等于 true 也不等于 false")
    else:
        domain = _DOMAINS.get(path, ())
        value = next((v for v in (*domain, "x", "y", "z") if v not in slot.neq), None)
    if value in slot.neq:
        raise Unsatisfiable(f"'{path}' 既等于又不等于 '{value}'")
    for op, bound in slot.ranges:
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not _RANGE_OK[op](value, bound):
            raise Unsatisfiable(f"'{path}' 的范围条件互相矛盾")
    if set(slot.has) & set(slot.hasnot):
        raise Unsatisfiable(f"'{path}' 既要求包含又要求不包含同一组词")
    return value


def _sample_text(feature: Feature) -> str:
    if feature.pattern is None:
        return feature.words[0]
    return sample(feature.compile().tree)


def witness(term: tuple, kinds: dict, features: dict[str, Feature]) -> dict:
    """A matter (dict) for which every test of `term` can hold; Unsatisfiable / Unsupported otherwise."""
    matter: dict = {"id": "witness", "title": "t"}
    facts: dict = {}
    for path, slot in _constraints(term).items():
        kind = kinds.get(path, "str")
        value = _pick(path, slot, kind, features)
        if value is None:
            if path == "title":
                raise Unsatisfiable("标题不可能缺失")
            continue
        if path.startswith("facts."):
            facts[path[6:]] = value
        elif path in ("title", "category", "source", "level", "district"):
            matter[path] = value
        elif path == "approved_by.id":
            matter["approved_by"] = value
        elif path == "approved_by.role":
            matter["approved_by"] = value if value != "x" else "sthj"
        else:
            raise Unsupported(path)
    if facts:
        matter["facts"] = facts
    level = matter.get("level")
    if level == "municipal" and "district" in matter:
        raise Unsatisfiable("市级事项不会有所属区")
    if level == "district" and "district" not in matter:
        matter["district"] = _SAMPLE_DISTRICT
    matter.pop("level", None)  # derived from district; giving both only adds a way to contradict
    return matter


# ---------------------------------------------------------------- the analyses
class _Analysis:
    def __init__(self, rulebook: Rulebook, engine: Engine):
        self.rulebook = rulebook
        self.engine = engine
        self.kinds = {**{"title": "str"}, **rulebook.compiled.field_kinds}
        self.features = {f.id: f for stage in rulebook.compiled.stages.values() for f in stage.features.features}
        self.terms: dict[int, list[tuple]] = {}  # rule.order → its alternatives (versions share an id, not terms)
        for stage in rulebook.compiled.stages.values():
            for compiled in stage.rules.values():
                self.terms.setdefault(compiled.rule.order, []).append(compiled.term)

    def warn(self, code, message, rule: Rule, suggestion=None) -> Diagnostic:
        where = Location(f"{self.rulebook.root.rstrip('/')}/{rule.file}", rule.line, 5)
        return Diagnostic(code, message, where, rule.id, suggestion, "warning")

    def run(self) -> list[Diagnostic]:
        return [*self.never_firing(), *self.dead_overrides(), *self.static_conflicts(), *self.gaps()]

    def never_firing(self):
        for rule in self.rulebook.rules:
            reasons = []
            for term in self.terms.get(rule.order, []):
                try:
                    witness(term, self.kinds, self.features)
                except Unsatisfiable as exc:
                    reasons.append(str(exc))
                    continue
                except Unsupported:
                    pass
                break
            else:
                if reasons:
                    yield self.warn("W310", f"规则永远不会触发：{'；'.join(dict.fromkeys(reasons))}", rule,
                                    "检查条件是否写错；不需要的规则请删除。")

    def dead_overrides(self):
        versions = self.rulebook.versions
        for rule in self.rulebook.rules:
            for other_id in rule.overrides:
                others = versions.get(other_id, ())
                if others and not any(rule.overlaps(other) for other in others):
                    yield self.warn("W312", f"覆盖 {other_id} 永远不起作用：两条规则没有同时生效的日期", rule,
                                    "检查 effective 的 from / until。")

    def static_conflicts(self):
        assign = [r for r in self.rulebook.rules if r.stage == "assign" and r.lead]
        categories = {r.order: _pinned_categories(self.terms.get(r.order, [])) for r in assign}
        for i, first in enumerate(assign):
            for second in assign[i + 1:]:
                if first.priority != second.priority or first.lead == second.lead:
                    continue
                if first.authority != second.authority:
                    continue  # a published list outranks the city's reading (W340 reports where they differ)
                if second.id in first.overrides or first.id in second.overrides:
                    continue
                if second.id in first.disputes or first.id in second.disputes:
                    continue
                if not first.overlaps(second):
                    continue  # never in force together (e.g. two dated versions)
                a, b = categories[first.order], categories[second.order]
                if a is not None and b is not None and not (a & b):
                    continue
                found = self._conflict_witness(first, second)
                if found:
                    yield self.warn(
                        "W320", f"静态冲突：与规则 {second.id}（{second.file}:{second.line}）优先级相同（{first.priority}）、"
                                f"互不覆盖，可同时适用而牵头部门不同。同时触发两者的事项：{json.dumps(found, ensure_ascii=False)}",
                        first, "用 overrides 表明哪条是例外、调整优先级，或在两条规则中用 disputes 声明这是须上报的争议。")

    def _conflict_witness(self, first: Rule, second: Rule) -> Optional[dict]:
        for term_a in self.terms.get(first.order, []):
            for term_b in self.terms.get(second.order, []):
                try:
                    matter = witness(term_a + term_b, self.kinds, self.features)
                except (Unsatisfiable, Unsupported):
                    continue
                day = _common_day(first, second)
                if day and "as_of" not in matter:
                    matter["as_of"] = day.isoformat()
                result = self.engine.resolve(matter)
                fired = {b.rule for b in result.basis if b.stage == "assign"}
                if result.status == "invalid" or not {first.id, second.id} <= fired:
                    continue
                jurisdiction = result.jurisdiction
                leads = {self._lead(rule, jurisdiction, result) for rule in (first, second)}
                if len(leads) == 2 and None not in leads:
                    return matter
        return None

    def _lead(self, rule: Rule, jurisdiction: str, result) -> Optional[str]:
        if rule.lead == "$approved_by":
            return "$approved_by"
        return self.rulebook.org.resolve(rule.lead, jurisdiction)

    def gaps(self):
        route = self.rulebook.compiled.stages["route"]
        # a matter with no lead must go somewhere: an escalation, or at least an obligation saying what to do next
        # (a district matter whose impact is not established is assessed first: （七） names no destination for it)
        escalating = {name for name, compiled in route.rules.items()
                      if compiled.rule.escalate or compiled.rule.obligations}
        for level, district in (("municipal", None), ("district", _SAMPLE_DISTRICT)):
            for status, count in (("unassigned", 0), ("conflict", 2)):
                fact = {"_m": 1, "title": "t", "level": level, "status": status, "candidate_count": count}
                if district:
                    fact["district"] = district
                fired = set(self.engine.match("route", fact)) & escalating
                if not fired:
                    where_level = "市级" if level == "municipal" else "区级"
                    yield Diagnostic("W330", f"缺口：{where_level}状态为 {status} 的事项没有任何上报或后续义务规则（实施意见（七））",
                                     Location(self.rulebook.root), None,
                                     f"添加 stage: route 规则，when: {{level: {level}, status: {status}}}，写明 escalate。",
                                     "warning")


def _common_day(a: Rule, b: Rule) -> Optional[dt.date]:
    """A day both (overlapping) rules are in force, when either is dated; None = any day, e.g. today."""
    starts = [d for d in (a.effective_from, b.effective_from) if d]
    ends = [d for d in (a.effective_until, b.effective_until) if d]
    return max(starts) if starts else (min(ends) if ends else None)


def _pinned_categories(terms: list[tuple]) -> Optional[set]:
    """Categories every alternative pins by equality (None when some alternative does not)."""
    found = set()
    for term in terms:
        values = {t.value for t in term if t.path == "category" and t.op == "eq"}
        if not values:
            return None
        found |= values
    return found
