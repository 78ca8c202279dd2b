"""Fired rules → Resolution, with the decision semantics of DESIGN.md.

classify: derive missing fields (overrides, then highest priority; a tie between different values
          leaves the field unset — never guessed).
assign:   candidates → drop overridden → highest priority → one lead (resolved), several (conflict),
          none (unassigned); assist = union of the winning rules' assists minus the lead.
route:    escalation (highest priority wins), transfers and obligations (all), status changes.
The matcher (durable_rules, in engine.py) decides which rules fire; this module never evaluates a
condition itself.
"""
from __future__ import annotations

import calendar
import datetime as dt
import re
from typing import Callable, Optional

from pydantic import ValidationError

from .compiler import FEATURES, MAX_TEXT_BYTES, FactError, shape_value
from .errors import MatterError, suggest
from .explain import explanation_text
from .model import (Basis, ErrorInfo, Escalation, Matter, Obligation, Resolution,
                    RulebookStamp, Transfer)
from .mentions import Mentions
from .mentions import read_by as mentions_read_by
from .orggraph import MUNICIPAL
from .places import Place, Places
from .rulebook import Rule, Rulebook

MAX_FACT_PROPERTIES = 200  # durable refuses facts with more than 253 properties (nested ones flattened)
_WHITESPACE = re.compile(r"\s+")
_ANNUAL = re.compile(r"^annual:(\d{2})-(\d{2}|end)$")

# outcomes recorded in `basis` as codes (model.Outcome); explain.py words them
ADOPTED = "adopted"
OVERRIDDEN = "overridden"
LOWER = "lower_priority"
TIED = "tied"
ABSENT = "absent"
AMBIGUOUS = "ambiguous"
SUPERSEDED = "superseded"


class Resolver:
    def __init__(self, rulebook: Rulebook, match: Callable[[str, dict], list[str]],
                 today: Callable[[], dt.date] = dt.date.today):
        self.rulebook = rulebook
        self.org = rulebook.org
        self.match = match
        self.today = today
        self.stamp = RulebookStamp(name=rulebook.name, version=rulebook.version, hash=rulebook.hash)
        self.rules = {stage.stage: {name: c.rule for name, c in stage.rules.items()}  # durable name → rule
                      for stage in rulebook.compiled.stages.values()}
        self.field_kinds = rulebook.compiled.field_kinds
        self.features = {name: stage.features for name, stage in rulebook.compiled.stages.items()}
        self._basis_cache: dict[tuple, Basis] = {}  # bounded: rules × outcomes
        self._category_ids = {spec.name: category_id for category_id, spec in rulebook.categories.items()}  # 名称 → id
        self.places = rulebook.places or Places(self.org)            # a Rulebook built by hand has none
        self.mentions = rulebook.mentions or Mentions(self.org)
        self.reads_named = mentions_read_by(rulebook.rules)

    # ------------------------------------------------------------ entry point
    def resolve(self, raw) -> Resolution:
        matter_id = _raw_id(raw)
        try:
            matter = raw if isinstance(raw, Matter) else validate_matter(raw)
            return self._resolve(matter)
        except MatterError as exc:
            return self.invalid(matter_id, exc)

    def invalid(self, matter_id: Optional[str], error: MatterError) -> Resolution:
        """The result for a matter that cannot be resolved as given: status `invalid`, with its error."""
        return Resolution.model_construct(
            id=matter_id, status="invalid", lead=None, assist=[], candidates=[], category=None, level=None,
            jurisdiction=None, escalation=None, transfers=[], obligations=[], basis=[],
            explanation=f"事项无效，未作判断：{error.message}", error=ErrorInfo(message=error.message, field=error.field),
            warnings=list(getattr(error, "warnings", ())), as_of=None, rulebook=self.stamp)

    # ------------------------------------------------------------ stages
    def _resolve(self, matter: Matter) -> Resolution:
        jurisdiction, level, place = self._jurisdiction(matter)
        as_of = matter.as_of or self.today()
        try:
            fact = self._fact(matter, jurisdiction, level)
        except MatterError as exc:
            exc.warnings = place.warnings  # invalid for another field: what was learnt about the place still helps
            raise
        if self.reads_named:  # named.*: the departments the title names — a fact for rules, never a decision
            fact.update(self.mentions.fact(self.mentions.find(fact["title"], jurisdiction)))
        approved = fact.get("approved_by", {}).get("id")
        basis: list[Basis] = []
        notes: list[str] = []

        fired = self._in_force("classify", fact, as_of)
        self._classify(matter, fired, fact, basis, notes)
        category = fact.get("category")

        fired = self._in_force("assign", fact, as_of)
        status, lead, assist, candidates = self._assign(fired, jurisdiction, approved, basis)

        fact["status"] = status
        if lead:
            data = self.org.node(lead)
            fact["lead"] = {"id": lead, "role": data["role"], "kind": data["kind"],
                            "enforcement": data["enforcement"], "jurisdiction": data["jurisdiction"]}
        fact["candidate_count"] = len(candidates)
        fired = self._in_force("route", fact, as_of)
        variables = {"$lead": [lead] if lead else [], "$candidates": candidates, "$assist": assist,
                     "$approved_by": [approved] if approved else []}
        status, escalation, transfers, obligations = self._route(fired, status, jurisdiction, variables, as_of, basis)

        department = self.org.department
        resolution = Resolution.model_construct(
            id=matter.id, status=status, lead=department(lead) if lead else None,
            assist=[department(n) for n in assist], candidates=[department(n) for n in candidates],
            category=category, level=level, jurisdiction=jurisdiction, escalation=escalation,
            transfers=transfers, obligations=obligations, basis=basis, explanation="", error=None,
            warnings=list(place.warnings), as_of=as_of, rulebook=self.stamp)
        resolution.explanation = explanation_text(resolution, self.rulebook, notes, place=place)
        return resolution

    def _in_force(self, stage: str, fact: dict, as_of: dt.date) -> list[Rule]:
        rules = self.rules[stage]
        features = self.features[stage].compute(fact)  # text tests, computed here: see compiler.py
        if features:
            fact[FEATURES] = features
        else:
            fact.pop(FEATURES, None)
        # several alternatives of one rule fire as one; of a rule's dated versions only the one in force counts
        fired = {rules[name].order: rules[name] for name in self.match(stage, fact)}
        return sorted((r for r in fired.values() if r.in_force(as_of)), key=lambda r: r.order)

    @staticmethod
    def _winners(fired: list[Rule]) -> tuple[list[Rule], set]:
        """Drop rules overridden by another fired rule; return (kept, ids of overridden)."""
        overridden = {other for rule in fired for other in rule.overrides}
        return [r for r in fired if r.id not in overridden], overridden

    def _classify(self, matter: Matter, fired: list[Rule], fact: dict, basis: list, notes: list):
        kept, overridden = self._winners(fired)
        outcome = {r.id: OVERRIDDEN for r in fired if r.id in overridden}
        fields = dict.fromkeys(k for r in kept for k in r.set)
        for name in fields:
            setters = [r for r in kept if name in r.set]
            if _given(matter, name):
                outcome.update({r.id: SUPERSEDED for r in setters})
                continue
            top = max(r.priority for r in setters)
            best = [r for r in setters if r.priority == top]
            values = list(dict.fromkeys(r.set[name] for r in best))
            for r in setters:
                outcome.setdefault(r.id, LOWER if r.priority < top else (ADOPTED if len(values) == 1 else AMBIGUOUS))
            if len(values) == 1:
                _put(fact, name, shape_value(name, values[0], self.field_kinds.get(name)))
            else:
                notes.append(f"分类有歧义：{name} 可能为 {'、'.join(map(str, values))}，未采用任何一个")
        basis.extend(self._basis(r, outcome.get(r.id, ADOPTED)) for r in fired)

    def _assign(self, fired: list[Rule], jurisdiction: str, approved: Optional[str], basis: list):
        kept, overridden = self._winners(fired)
        outcome = {r.id: OVERRIDDEN for r in fired if r.id in overridden}
        proposals = []
        for rule in kept:
            node = approved if rule.lead == "$approved_by" else self._resolve_ref(rule.lead, jurisdiction)
            if node is None:
                outcome[rule.id] = ABSENT
            else:
                proposals.append((rule, node))
        lead, assist, candidates = None, [], []
        if proposals:
            top = max(rule.priority for rule, _ in proposals)
            winners = [(rule, node) for rule, node in proposals if rule.priority == top]
            candidates = list(dict.fromkeys(node for _, node in winners))
            for rule, _ in proposals:
                outcome.setdefault(rule.id, LOWER if rule.priority < top else (ADOPTED if len(candidates) == 1 else TIED))
            if len(candidates) == 1:
                lead = candidates[0]
                for rule, _ in winners:
                    for ref in rule.assist:
                        node = self._resolve_ref(ref, jurisdiction, approved)
                        if node and node != lead and node not in assist:
                            assist.append(node)
        basis.extend(self._basis(r, outcome.get(r.id, ADOPTED)) for r in fired)
        if lead:
            return "resolved", lead, assist, []
        if len(candidates) > 1:
            return "conflict", None, [], candidates
        return "unassigned", None, [], []

    def _route(self, fired: list[Rule], status: str, jurisdiction: str, variables: dict, as_of: dt.date,
               basis: list):
        kept, overridden = self._winners(fired)
        outcome = {r.id: OVERRIDDEN for r in fired if r.id in overridden}
        escalation = None
        escalating = [r for r in kept if r.escalate]
        if escalating:
            top = max(r.priority for r in escalating)
            chosen = next(r for r in escalating if r.priority == top)  # ties: first in rulebook order
            for r in escalating:
                if r is not chosen:
                    outcome[r.id] = LOWER
            spec = chosen.escalate
            proposer = self._nodes([spec.proposer], jurisdiction, variables) if spec.proposer else []
            escalation = Escalation.model_construct(
                to=[self.org.department(n) for n in self._nodes(spec.to, jurisdiction, variables)],
                proposer=self.org.department(proposer[0]) if proposer else None,
                consult=[self.org.department(n) for n in self._nodes(spec.with_, jurisdiction, variables)],
                steps=list(spec.steps), cite=chosen.cite, rule=chosen.id)
        transfers, seen = [], set()
        obligations = []
        for rule in kept:
            for item in rule.transfers:
                for node in self._nodes([item.to], jurisdiction, variables):
                    if (node, item.reason) not in seen:
                        seen.add((node, item.reason))
                        transfers.append(Transfer.model_construct(to=self.org.department(node), reason=item.reason,
                                                                  cite=rule.cite, rule=rule.id))
            for item in rule.obligations:
                obligations.append(Obligation.model_construct(
                    what=item.what, due=due_date(item.due, as_of),
                    to=[self.org.department(n) for n in self._nodes(item.to, jurisdiction, variables)],
                    copy_to=[self.org.department(n) for n in self._nodes(item.copy_, jurisdiction, variables)],
                    cite=rule.cite, rule=rule.id))
        changing = [r for r in kept if r.status]
        if changing:
            top = max(r.priority for r in changing)
            status = next(r for r in changing if r.priority == top).status
        basis.extend(self._basis(r, outcome.get(r.id, ADOPTED)) for r in fired)
        return status, escalation, transfers, obligations

    # ------------------------------------------------------------ helpers
    def _resolve_ref(self, ref: str, jurisdiction: str, approved: Optional[str] = None) -> Optional[str]:
        if ref == "$approved_by":
            return approved
        return self.org.resolve(ref, jurisdiction)

    def _nodes(self, refs, jurisdiction: str, variables: dict) -> list[str]:
        found: list[str] = []
        for ref in refs:
            nodes = variables.get(ref, []) if ref.startswith("$") else [self.org.resolve(ref, jurisdiction)]
            for node in nodes:
                if node and node not in found:
                    found.append(node)
        return found

    def _basis(self, rule: Rule, outcome: str) -> Basis:
        # immutable and shared: a rule with one outcome always reads the same (saves work per matter)
        key = (rule.order, outcome)  # order, not id: dated versions of one id differ
        found = self._basis_cache.get(key)
        if found is None:
            found = self._basis_cache[key] = Basis.model_construct(
                rule=rule.id, stage=rule.stage, file=rule.file, line=rule.line, cite=rule.cite,
                provenance=rule.provenance, outcome=outcome)
        return found

    def _jurisdiction(self, matter: Matter) -> tuple[str, str, Place]:
        """(jurisdiction, level, how it was found): places.py reads the district field, else the title."""
        place = self.places.locate(matter.district, _WHITESPACE.sub(" ", matter.title).strip(), matter.level)
        return place.jurisdiction, place.level, place

    def _approved_by(self, matter: Matter, jurisdiction: str) -> Optional[str]:
        ref = matter.approved_by
        if ref is None:
            return None
        node = self.org.node_named(ref)
        if node is None:
            try:
                node = self.org.resolve(ref, jurisdiction)
            except KeyError:
                raise MatterError(f"未知的审批部门 '{ref}'。{suggest(ref, self.org.reference_names(), '部门')}",
                                  "approved_by") from None
        if node is None:
            raise MatterError(f"审批部门 '{ref}' 在 {jurisdiction} 没有对应机构", "approved_by")
        return node

    def _category(self, value: str) -> str:
        """A category id, or its Chinese name as an operator's sheet writes it (餐饮油烟 → catering_fumes)."""
        categories = self.rulebook.categories
        if not categories or value in categories:
            return value  # a rulebook without a category list accepts any id
        if value in self._category_ids:
            return self._category_ids[value]
        raise MatterError(f"未知的事项类别 '{value}'。{suggest(value, [*categories, *self._category_ids], '类别')}",
                          "category")

    def _fact(self, matter: Matter, jurisdiction: str, level: str) -> dict:
        title = _WHITESPACE.sub(" ", matter.title).strip()
        if len(title.encode("utf-8")) > MAX_TEXT_BYTES:
            raise MatterError(f"标题过长（{len(title.encode('utf-8'))} 字节，上限 {MAX_TEXT_BYTES}）", "title")
        fact: dict = {"_m": 1, "title": title, "level": level}
        if jurisdiction != MUNICIPAL:
            fact["district"] = jurisdiction
        for name in ("category", "source"):
            value = getattr(matter, name)
            if value is not None:
                fact[name] = shape_value(name, value, "str")
        if "category" in fact:
            fact["category"] = self._category(fact["category"])
        approved = self._approved_by(matter, jurisdiction)
        if approved:
            data = self.org.node(approved)
            fact["approved_by"] = {"id": approved, "role": data["role"], "jurisdiction": data["jurisdiction"]}
        if len(matter.facts) > MAX_FACT_PROPERTIES:
            raise MatterError(f"facts 过多（{len(matter.facts)} 项，上限 {MAX_FACT_PROPERTIES}）", "facts")
        facts = {}
        for name, value in matter.facts.items():
            try:
                shaped = shape_value(f"facts.{name}", value, self.field_kinds.get(f"facts.{name}"))
            except FactError as exc:
                raise MatterError(str(exc), exc.field) from None
            if shaped is not None:
                facts[name] = shaped
        if facts:
            fact["facts"] = facts
        return fact


# ---------------------------------------------------------------- module helpers
def validate_matter(raw) -> Matter:
    """A Matter from a dict, or MatterError in plain Chinese naming the field."""
    if not isinstance(raw, dict):
        raise MatterError(f"事项必须是对象（JSON object），得到 {type(raw).__name__}")
    try:
        return Matter.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or None
        kind = first["type"]
        if kind == "missing":
            message = "缺少必填字段"
        elif kind == "extra_forbidden":
            message = "未知字段。" + suggest(str(first["loc"][0]), Matter.model_fields, "字段")
        elif kind.startswith("date"):
            message = f"应为日期 YYYY-MM-DD，得到 {first.get('input')!r}"
        elif kind == "literal_error":
            message = f"应为 {first.get('ctx', {}).get('expected')} 之一，得到 {first.get('input')!r}"
        elif kind in ("string_too_short",):
            message = "不能为空"
        else:
            message = f"值无效（{first['msg']}），得到 {first.get('input')!r}"
        raise MatterError(message, field) from None


def _raw_id(raw) -> Optional[str]:
    if isinstance(raw, Matter):
        return raw.id
    if isinstance(raw, dict):
        value = raw.get("id")
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            return str(value)
    return None


def _given(matter: Matter, name: str) -> bool:
    if name.startswith("facts."):
        return matter.facts.get(name[6:]) is not None
    return getattr(matter, name, None) is not None


def _put(fact: dict, name: str, value):
    if name.startswith("facts."):
        fact.setdefault("facts", {})[name[6:]] = value
    else:
        fact[name] = value


def due_date(due: Optional[str], as_of: dt.date) -> Optional[str]:
    """`annual:02-end` → the next end of February on or after `as_of`; other text unchanged."""
    if not due:
        return None
    match = _ANNUAL.match(due)
    if not match:
        return due
    month = int(match.group(1))
    for year in (as_of.year, as_of.year + 1):
        day = calendar.monthrange(year, month)[1] if match.group(2) == "end" else int(match.group(2))
        candidate = dt.date(year, month, day)
        if candidate >= as_of:
            return candidate.isoformat()
    return due  # pragma: no cover - the second year always qualifies
