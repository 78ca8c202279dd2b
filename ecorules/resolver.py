"""Fired rules → Resolution, with the decision semantics of DESIGN.md.

classify: derive missing fields (overrides, then highest priority; a tie between different values
          leaves the field unset — never guessed).
assign:   candidates → drop overridden → highest authority (a jurisdiction's published list first) → highest
          priority → one lead (resolved), several (conflict), none (unassigned); assist = union of the winning
          rules' assists minus the lead.
route:    escalation (highest priority wins), transfers and obligations (all), status changes.
The matcher (durable_rules, in engine.py) decides which rules fire; the org graph (orggraph.py) decides
which body a reference names; this module only applies the decision semantics. Outcomes are codes
(model.Outcome); explain.py words them.
"""
from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Callable, Iterable, Optional

from .errors import MatterError
from .explain import explanation_text
from .facts import FEATURES, FactBuilder, given, put, shape_value, validate_matter
from .model import (Basis, ErrorInfo, Escalation, Hop, Matter, Obligation, Resolution, RulebookStamp,
                    Transfer)
from .rulebook import Rule, Rulebook

__all__ = ["Resolver", "validate_matter", "due_date"]

_ANNUAL = re.compile(r"^annual:(\d{2})-(\d{2}|end)$")
_MEMO_SIZE = 4096  # remembered decisions per step (see Resolver._memo)

# outcomes recorded in `basis` as codes (model.Outcome); explain.py words them
ADOPTED = "adopted"
OVERRIDDEN = "overridden"
LOWER = "lower_priority"
TIED = "tied"
ABSENT = "absent"
AMBIGUOUS = "ambiguous"
SUPERSEDED = "superseded"
OUTRANKED = "outranked"


# ---------------------------------------------------------------- one decision, four uses
@dataclass(frozen=True)
class Pick:
    """"Overrides → authority → top priority → outcome" over (rule, value) proposals of the rules that fired.

    `values`: the distinct values proposed at the top, in rulebook order (one: decided; several: a tie).
    `outcomes`: rule order → outcome code, for every rule that proposed something or was overridden.
    """

    values: tuple
    winners: tuple          # (rule, value) at the top authority and priority
    outcomes: dict


def pick(fired: list[Rule], proposals: Iterable[tuple[Rule, object]], tie: str, first_wins: bool = False) -> Pick:
    """The one decision helper. The order of authority comes before priority numbers: a jurisdiction's published
    list (a list layer, Rule.authority 1; its rules fire only in that jurisdiction) outranks every proposal of the
    city rulebook (0), whose own order — statute, reading, sector inference, fallback — is its priority bands."""
    overridden = {other for rule in fired for other in rule.overrides}
    outcomes = {r.order: OVERRIDDEN for r in fired if r.id in overridden}
    live = [(rule, value) for rule, value in proposals if rule.id not in overridden]
    if not live:
        return Pick((), (), outcomes)
    rank = max(rule.authority for rule, _ in live)
    for rule, _ in live:
        if rule.authority < rank:
            outcomes.setdefault(rule.order, OUTRANKED)
    live = [(rule, value) for rule, value in live if rule.authority == rank]
    top = max(rule.priority for rule, _ in live)
    winners = tuple((rule, value) for rule, value in live if rule.priority == top)
    if first_wins:  # a tie between route effects: the first in rulebook order is taken
        winners = winners[:1]
    values = tuple(dict.fromkeys(value for _, value in winners))
    chosen = {rule.order for rule, _ in winners}
    for rule, _ in live:
        if rule.order not in chosen:
            outcomes.setdefault(rule.order, LOWER)
        else:
            outcomes.setdefault(rule.order, ADOPTED if len(values) == 1 else tie)
    return Pick(values, winners, outcomes)


# ---------------------------------------------------------------- stage results
@dataclass(frozen=True)
class Fired:
    """The rules of a stage that fired and are in force, in rulebook order."""

    rules: tuple
    orders: tuple           # their places in rulebook order (what decisions are remembered by)
    sets: tuple             # the fields their `set:` derive (classify)


@dataclass(frozen=True)
class Classified:
    outcomes: dict
    notes: tuple            # ambiguities, worded for the explanation
    puts: tuple             # (field, value) derived for the fact


@dataclass(frozen=True)
class Assignment:
    status: str
    lead: Optional[str]
    assist: tuple = ()
    candidates: tuple = ()
    outcomes: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Decided:
    """A stage's decision and the basis entries of the rules that fired, remembered together."""

    decision: object
    basis: tuple
    puts: tuple = ()        # classify: (field, value) derived for the fact


@dataclass(frozen=True)
class Assigned:
    """The assign decision with what the rest of a resolution takes from it, built once per path."""

    assignment: "Assignment"
    basis: tuple
    route_fields: dict      # added to the route stage's fact (read, never changed)
    lead: Optional[object]  # Department
    assist: tuple
    candidates: tuple


@dataclass(frozen=True)
class Routing:
    status: str
    escalation: Optional[Escalation]
    transfers: tuple
    obligations: tuple
    outcomes: dict


class Resolver:
    def __init__(self, rulebook: Rulebook, match: Callable[[str, dict], list[str]],
                 today: Callable[[], dt.date] = dt.date.today):
        self.rulebook = rulebook
        self.org = rulebook.org
        self.match = match
        self.today = today
        self.facts = FactBuilder(rulebook)
        self.stamp = RulebookStamp(name=rulebook.name, version=rulebook.version, hash=rulebook.hash)
        self.rules = {stage.stage: {name: c.rule for name, c in stage.rules.items()}  # durable name → rule
                      for stage in rulebook.compiled.stages.values()}
        self.field_kinds = rulebook.compiled.field_kinds
        self.features = {name: stage.features for name, stage in rulebook.compiled.stages.items()}
        self._basis_cache: dict[tuple, Basis] = {}  # bounded: rules × outcomes
        # reference → bodies: the org graph does not change under a rulebook, so each answer is computed once
        # (bounded: references × jurisdictions × anchors, all from the rulebook and its graph)
        self._bodies_cache: dict[tuple, tuple] = {}
        # decisions on a path already taken (see _memo); keyed by the rules that fired and what else each step reads
        self._fired_memo: dict = {}
        self._classify_memo: dict = {}
        self._assign_memo: dict = {}
        self._route_memo: dict = {}
        self._text_memo: dict = {}

    # ------------------------------------------------------------ entry point
    def resolve(self, raw) -> Resolution:
        try:
            matter = raw if isinstance(raw, Matter) else validate_matter(raw)
            return self._resolve(matter)
        except MatterError as exc:
            return self.invalid(_raw_id(raw), exc)

    def invalid(self, matter_id: Optional[str], error: MatterError) -> Resolution:
        """The result for a matter that cannot be resolved as given: status `invalid`, with its error."""
        return Resolution.model_construct(
            id=matter_id, status="invalid", lead=None, assist=[], candidates=[], category=None, level=None,
            jurisdiction=None, escalation=None, transfers=[], obligations=[], basis=[],
            explanation=f"事项无效，未作判断：{error.message}", error=ErrorInfo(message=error.message, field=error.field),
            warnings=list(getattr(error, "warnings", ())), as_of=None, rulebook=self.stamp)

    # ------------------------------------------------------------ stages
    def _resolve(self, matter: Matter) -> Resolution:
        built = self.facts.build(matter)
        fact, jurisdiction, approved = built.fact, built.jurisdiction, built.approved_by
        as_of = matter.as_of or self.today()

        fired = self._in_force("classify", fact, as_of)
        key = (fired.orders, tuple([given(matter, name) for name in fired.sets]) if fired.sets else ())
        classified = self._classify_memo.get(key)
        if classified is None:
            classified = self._remember(self._classify_memo, key, self._classify(matter, fired))
        for name, value in classified.puts:
            put(fact, name, value)

        fired = self._in_force("assign", fact, as_of)
        named = fact["named"].get("id") if "named" in fact else None
        assign_key = (fired.orders, jurisdiction, approved, named)  # everything _assign reads
        assigned = self._assign_memo.get(assign_key)
        if assigned is None:
            assigned = self._remember(self._assign_memo, assign_key, self._assigned(
                fired, jurisdiction, self._given(approved, named)))

        fact.update(assigned.route_fields)
        fired = self._in_force("route", fact, as_of)
        route_key = (fired.orders, assign_key, as_of)
        routed = self._route_memo.get(route_key)
        if routed is None:
            routing = self._route(fired.rules, assigned.assignment.status, jurisdiction,
                                  self._variables(assigned.assignment, self._given(approved, named)), as_of)
            routed = self._remember(self._route_memo, route_key, Decided(routing, self._basis_of(fired, routing)))
        routing = routed.decision

        category = fact.get("category")
        resolution = _built(Resolution, {  # every field, in the model's order
            "id": matter.id, "status": routing.status, "lead": assigned.lead, "assist": list(assigned.assist),
            "candidates": list(assigned.candidates), "category": category, "level": built.level,
            "jurisdiction": jurisdiction, "escalation": _fresh(routing.escalation) if routing.escalation else None,
            "transfers": list(routing.transfers), "obligations": [_fresh(o) for o in routing.obligations],
            "basis": [*classified.basis, *assigned.basis, *routed.basis], "explanation": "", "error": None,
            "warnings": list(built.place.warnings), "as_of": as_of, "rulebook": self.stamp})
        # the paragraph depends only on the decision path and how the place was read: worded once per path
        place = built.place
        text_key = (category, key, route_key, place.how, place.evidence)
        text = self._text_memo.get(text_key)
        if text is None:
            text = self._remember(self._text_memo, text_key, explanation_text(
                resolution, self.rulebook, list(classified.decision.notes), place=place))
        resolution.__dict__["explanation"] = text  # a field of the model being built
        return resolution

    @staticmethod
    def _remember(table: dict, key, value):
        """Keep a decision taken on a path, for the next matter on the same path. Each table holds immutable
        answers of pure steps (the rulebook and its graph never change under a Resolver) and is bounded: emptied
        when full."""
        if len(table) >= _MEMO_SIZE:
            table.clear()
        table[key] = value
        return value

    def _assigned(self, fired: "Fired", jurisdiction: str, given: dict) -> "Assigned":
        assignment = self._assign(fired.rules, jurisdiction, given)
        department = self.org.department
        return Assigned(assignment, self._basis_of(fired, assignment), self._route_fields(assignment),
                        department(assignment.lead) if assignment.lead else None,
                        tuple(department(n) for n in assignment.assist),
                        tuple(department(n) for n in assignment.candidates))

    @staticmethod
    def _given(approved: Optional[str], named: Optional[str]) -> dict:
        """$approved_by and $named: the bodies the matter itself gives (each a list of 0 or 1)."""
        return {"$approved_by": [approved] if approved else [], "$named": [named] if named else []}

    @staticmethod
    def _variables(assignment: "Assignment", given: dict) -> dict:
        return {"$lead": [assignment.lead] if assignment.lead else [], "$candidates": list(assignment.candidates),
                "$assist": list(assignment.assist), **given}

    def _in_force(self, stage: str, fact: dict, as_of: dt.date) -> "Fired":
        table = self.features[stage]
        features = table.compute(fact) if table.features else None  # text tests, computed here: see compiler.py
        if features:
            fact[FEATURES] = features
        else:
            fact.pop(FEATURES, None)
        names = self.match(stage, fact)
        key = (stage, *names, as_of)
        fired = self._fired_memo.get(key)
        if fired is None:
            fired = self._remember(self._fired_memo, key, self._rules_in_force(stage, names, as_of))
        return fired

    def _rules_in_force(self, stage: str, names: list[str], as_of: dt.date) -> "Fired":
        rules = self.rules[stage]
        # several alternatives of one rule fire as one; of a rule's dated versions only the one in force counts
        fired = {rules[name].order: rules[name] for name in names}
        ordered = tuple(sorted((r for r in fired.values() if r.in_force(as_of)), key=lambda r: r.order))
        return Fired(ordered, tuple(r.order for r in ordered), tuple(self._sets(ordered)))

    @staticmethod
    def _sets(fired) -> list[str]:
        return list(dict.fromkeys(k for r in fired for k in r.set))

    def _classify(self, matter: Matter, fired: "Fired") -> "Decided":
        decided = self._classified(matter, fired.rules)
        return Decided(decided, self._basis_of(fired, decided), decided.puts)

    def _classified(self, matter: Matter, fired) -> "Classified":
        """What classify decides for the rules that fired, given which fields the matter itself gives."""
        outcomes, notes, puts = {}, [], []
        for name in self._sets(fired):
            setters = [r for r in fired if name in r.set]
            if given(matter, name):
                overridden = {o for r in fired for o in r.overrides}
                outcomes.update({r.order: SUPERSEDED for r in setters if r.id not in overridden})
                continue
            chosen = pick(fired, ((r, r.set[name]) for r in setters), AMBIGUOUS)
            for order, outcome in chosen.outcomes.items():
                outcomes.setdefault(order, outcome)
            if len(chosen.values) == 1:
                puts.append((name, shape_value(name, chosen.values[0], self.field_kinds.get(name))))
            elif chosen.values:
                notes.append(f"分类有歧义：{name} 可能为 {'、'.join(map(str, chosen.values))}，未采用任何一个")
        overridden = {o for r in fired for o in r.overrides}
        outcomes.update({r.order: OVERRIDDEN for r in fired if r.id in overridden})
        return Classified(outcomes, tuple(notes), tuple(puts))

    def _assign(self, fired: list[Rule], jurisdiction: str, variables: dict) -> Assignment:
        """`variables`: $approved_by and $named, the bodies the matter itself gives (each a list of 0 or 1)."""
        outcomes, proposals = {}, []
        overridden = {o for r in fired for o in r.overrides}
        for rule in fired:
            if not rule.lead or rule.id in overridden:
                continue
            node = self._one(rule.lead, jurisdiction, variables)
            if node is None:
                outcomes[rule.order] = ABSENT
            else:
                proposals.append((rule, node))
        chosen = pick(fired, proposals, TIED)
        for order, outcome in chosen.outcomes.items():
            outcomes.setdefault(order, outcome)
        if len(chosen.values) > 1:
            return Assignment("conflict", None, (), chosen.values, outcomes)
        if not chosen.values:
            return Assignment("unassigned", None, (), (), outcomes)
        lead = chosen.values[0]
        assist = [node for rule, _ in chosen.winners
                  for node, _ in self._find(rule.assist, jurisdiction, variables) if node != lead]
        return Assignment("resolved", lead, tuple(dict.fromkeys(assist)), (), outcomes)

    def _route_fields(self, assignment: Assignment) -> dict:
        """What the route stage's fact adds to the matter's: the assign result."""
        fields: dict = {"status": assignment.status}
        if assignment.lead:
            data = self.org.node(assignment.lead)
            fields["lead"] = {"id": assignment.lead, "role": data["role"], "kind": data["kind"],
                              "enforcement": data["enforcement"], "jurisdiction": data["jurisdiction"]}
        fields["candidate_count"] = len(assignment.candidates)
        return fields

    def _route(self, fired: list[Rule], status: str, jurisdiction: str, variables: dict, as_of: dt.date) -> Routing:
        department = self.org.department
        escalating = pick(fired, ((r, r.order) for r in fired if r.escalate), LOWER, first_wins=True)
        escalation = None
        if escalating.winners:
            rule = escalating.winners[0][0]
            spec = rule.escalate
            to = self._find(spec.to, jurisdiction, variables)
            proposer = self._find([spec.proposer], jurisdiction, variables)[:1] if spec.proposer else []
            consult = self._find(spec.with_, jurisdiction, variables)
            escalation = Escalation.model_construct(
                to=[department(n) for n, _ in to], proposer=department(proposer[0][0]) if proposer else None,
                consult=[department(n) for n, _ in consult], steps=list(spec.steps),
                path=self._path(to, consult), cite=rule.cite, rule=rule.id)
        transfers, seen, obligations = [], set(), []
        overridden = {o for r in fired for o in r.overrides}
        for rule in (r for r in fired if r.id not in overridden):
            for item in rule.transfers:
                for node, _ in self._find([item.to], jurisdiction, variables):
                    if (node, item.reason) not in seen:
                        seen.add((node, item.reason))
                        transfers.append(Transfer.model_construct(to=department(node), reason=item.reason,
                                                                  cite=rule.cite, rule=rule.id))
            for item in rule.obligations:
                obligations.append(Obligation.model_construct(
                    what=item.what, due=due_date(item.due, as_of),
                    to=[department(n) for n, _ in self._find(item.to, jurisdiction, variables)],
                    copy_to=[department(n) for n, _ in self._find(item.copy_, jurisdiction, variables)],
                    cite=rule.cite, rule=rule.id))
        changing = pick(fired, ((r, r.status) for r in fired if r.status), LOWER, first_wins=True)
        outcomes = {**changing.outcomes, **escalating.outcomes}
        return Routing(changing.values[0] if changing.values else status, escalation, tuple(transfers),
                       tuple(obligations), outcomes)

    # ------------------------------------------------------------ references → bodies (graph queries)
    def _find(self, refs: Iterable[str], jurisdiction: str, variables: dict) -> list[tuple[str, list[Hop]]]:
        """Each reference → bodies with the graph hops that found them; no body twice."""
        found: dict[str, list[Hop]] = {}
        for ref in refs:
            for node, hops in self._bodies(ref, jurisdiction, variables):
                found.setdefault(node, hops)
        return list(found.items())

    def _one(self, ref: str, jurisdiction: str, variables: dict) -> Optional[str]:
        bodies = self._bodies(ref, jurisdiction, variables)
        return bodies[0][0] if bodies else None

    def _bodies(self, ref: str, jurisdiction: str, variables: dict) -> tuple[tuple[str, list[Hop]], ...]:
        anchors = tuple(variables.get(ref.partition(".")[0], ())) if ref.startswith("$") else ()
        key = (ref, jurisdiction, anchors)
        found = self._bodies_cache.get(key)
        if found is None:
            found = self._bodies_cache[key] = tuple(self._graph_bodies(ref, jurisdiction, variables))
        return found

    def _graph_bodies(self, ref: str, jurisdiction: str, variables: dict) -> list[tuple[str, list[Hop]]]:
        if not ref.startswith("$"):
            node, hops = self.org.locate(ref, jurisdiction)
            return [(node, hops)] if node else []
        variable, _, relation = ref.partition(".")
        anchors = variables.get(variable, [])
        if not relation:
            return [(node, []) for node in anchors]
        if not anchors:  # no lead (yet): the relation is taken at the matter's own level
            return self.org.related(None, relation, jurisdiction)
        return [found for anchor in anchors for found in self.org.related(anchor, relation, jurisdiction)]

    def _path(self, to: list, consult: list) -> list[Hop]:
        """How the escalation reached its bodies: the hops of each reference, then each consulted department's
        `reports_to` edges into the bodies escalated to (the 党委和政府 that decide)."""
        path = [hop for _, hops in to for hop in hops]
        targets = {node for node, _ in to}
        for node, _ in consult:
            path += [Hop.model_construct(source=node, type="reports_to", target=parent)
                     for parent in self.org.reports_to(node) if parent in targets]
        return list(dict.fromkeys(path))

    def _basis_of(self, fired: "Fired", decision) -> tuple:
        outcomes = decision.outcomes
        return tuple(self._basis(rule, outcomes.get(rule.order, ADOPTED)) for rule in fired.rules)

    def _basis(self, rule: Rule, outcome: str) -> Basis:
        # immutable and shared: a rule with one outcome always reads the same (saves work per matter)
        key = (rule.order, outcome)  # order, not id: dated versions of one id differ
        found = self._basis_cache.get(key)
        if found is None:
            found = self._basis_cache[key] = Basis.model_construct(
                rule=rule.id, stage=rule.stage, file=rule.file, line=rule.line, cite=rule.cite,
                provenance=rule.provenance, outcome=outcome)
        return found


# ---------------------------------------------------------------- module helpers
def _fresh(model):
    """A new instance of a remembered model with list fields (Escalation, Obligation): a caller may change the lists
    of the result it holds without changing anyone else's. (What model_copy does, lists copied, without its
    generality: this runs for every obligation of every matter.)"""
    cls = model.__class__
    values = model.__dict__.copy()
    for name in _LISTS[cls]:
        values[name] = values[name].copy()
    copy = cls.__new__(cls)
    _set(copy, "__dict__", values)
    _set(copy, "__pydantic_fields_set__", set(model.__pydantic_fields_set__))
    _set(copy, "__pydantic_extra__", None)
    _set(copy, "__pydantic_private__", None)
    return copy


def _built(cls, values: dict):
    """`cls.model_construct(**values)` for the engine's own output models, `values` holding every field in the
    model's order: what pydantic's model_construct leaves (those values, all of them set, no extra, no private)
    without its loop over aliases and defaults — a quarter of its time, paid once per matter
    (tests/test_matchers.py checks the two agree)."""
    model = cls.__new__(cls)
    _set(model, "__dict__", values)
    _set(model, "__pydantic_fields_set__", set(_FIELDS[cls]))
    _set(model, "__pydantic_extra__", None)
    _set(model, "__pydantic_private__", None)
    return model


_set = object.__setattr__


def _field_names(cls) -> tuple:
    fields = cls.model_fields
    # what _built skips must not exist on these models
    assert not any(f.alias or f.validation_alias for f in fields.values()) and not cls.__pydantic_post_init__ \
        and cls.model_config.get("extra") != "allow" and not cls.__pydantic_root_model__, cls
    return tuple(fields)


_FIELDS = MappingProxyType({cls: _field_names(cls) for cls in (Resolution, Escalation, Obligation)})
_LISTS = MappingProxyType({cls: tuple(name for name, f in cls.model_fields.items()
                                      if getattr(f.annotation, "__origin__", None) is list)
                           for cls in (Escalation, Obligation)})


def _raw_id(raw) -> Optional[str]:
    if isinstance(raw, Matter):
        return raw.id
    if isinstance(raw, dict):
        value = raw.get("id")
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            return str(value)
    return None


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
