"""Rule conditions → durable_rules' JSON ruleset form. Pure data: this module never imports durable.

Each rule's `when` was parsed once, by conditions.py, when the rulebook was loaded; here its tree, with
negations pushed down to the tests (durable has no general `not`) and multiplied out into alternatives
(conditions.dnf), is emitted as durable JSON. Every sharp edge of durable_rules 2.0.28 that a rule
could hit is refused or worked around here:

* every condition starts with the anchor test `_m == 1`, so no rule is made only of `$nex`, no `$and`
  is ever empty, and an equality test always comes first;
* text tests (`contains`, `contains_any`, `matches`) never reach durable's regex operator `$mt`, which
  answers wrongly (measured: `.*(abc|de).*` does not match "abcd"; `.*bbb.*` does not match
  "baabbbba"; `.*aaab.*` cannot even be registered). Each distinct text test becomes a *feature*:
  computed per matter by `FeatureTable` (plain substring search, or the pattern compiled once by
  patterns.py — a linear-time matcher, never Python's backtracking `re`), handed to durable as
  `_f.<id> = 1`, and tested there by equality (negation: the field exists and the feature does not);
* literals of one field share one type (durable compares mixed types as text), and floats that JSON
  would write with a bare exponent are refused (durable rejects `1e-05`): both checked by the parse;
* rules are packed into as many rulesets as needed so that no ruleset exceeds durable's limits
  (4096 rules, 512 distinct tests under one node, 64 range tests matching one fact).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from .conditions import TESTS, ConditionError, FieldTest, Test, dnf  # noqa: F401  (TESTS: the documented test names)
from .errors import Diagnostic, Location
from .facts import ANCHOR, FEATURES, FeatureTable
from .patterns import Pattern

STAGES = ("classify", "assign", "route")
_FEATURE_PREFIX = FEATURES + "."
_RANGE = {"gt": "$gt", "gte": "$gte", "lt": "$lt", "lte": "$lte"}
LIMIT_RULES = 4000               # durable: error 106 above 4096 rules per ruleset
LIMIT_CHILDREN = 500             # durable: create_ruleset hangs at the 513th distinct test under a node
LIMIT_RANGE = 60                 # durable: error 303 above 64 non-equality or $or-branch tests matching one fact
LIMIT_STACK = 60                 # durable: error 303 when its matching stack (64 alpha nodes) overflows on one fact



@dataclass(frozen=True)
class Feature:
    """One distinct text test: does field `path` contain any of `words` / fully match `pattern`?"""

    id: str
    path: str
    words: tuple = ()
    pattern: Optional[str] = None
    matcher: Optional[Pattern] = field(default=None, compare=False, repr=False)  # compiled once, at the parse
    sound: bool = False            # sounds_like: the words as they sound (sounds.py), not as written

    def compile(self):
        if self.pattern is None:
            return None
        return self.matcher if self.matcher is not None else Pattern(self.pattern)


# ------------------------------------------------------------------ emitting durable JSON
def _emit_test(test: Test) -> list[dict]:
    if test.op == "eq":
        return [{test.path: test.value}]
    if test.op == "neq":
        return [{"$neq": {test.path: test.value}}]
    if test.op == "exists":
        return [{"$ex": {test.path: 1}}]
    if test.op == "nexists":
        return [{"$nex": {test.path: 1}}]
    if test.op == "has":
        return [{f"{FEATURES}.{test.value}": 1}]
    if test.op == "hasnot":  # the field is there and the feature is not (a missing field stays false)
        return [{"$ex": {test.path: 1}}, {"$nex": {f"{FEATURES}.{test.value}": 1}}]
    return [{_RANGE[test.op]: {test.path: test.value}}]


def emit_term(term: tuple) -> dict:
    """One alternative as a durable condition: the anchor first, equalities before other tests."""
    body = [part for test in term for part in _emit_test(test)]
    return {"$and": [{ANCHOR: 1}, *sorted(body, key=lambda p: next(iter(p)).startswith("$"))]}


@dataclass(frozen=True)
class MatchLoad:
    """An upper bound on how many of a rule's tests can match one fact, in durable's terms.

    durable fails a fact that matches more than 64 tests at once (error 303). Measured: a test shared
    by several rules counts once; equality tests on one path exclude each other (one value per fact),
    so they count once per path; every other distinct test counts (ranges, $neq, $ex/$nex), and so does
    each text feature (an equality on a path of its own).
    """

    eq_paths: frozenset = frozenset()
    tests: frozenset = frozenset()

    def __add__(self, other: "MatchLoad") -> "MatchLoad":
        return MatchLoad(self.eq_paths | other.eq_paths, self.tests | other.tests)

    def without_features(self) -> "MatchLoad":
        """The load left when text features are counted at run time instead (see FeatureLoad)."""
        return MatchLoad(frozenset(p for p in self.eq_paths if not p.startswith(_FEATURE_PREFIX)), self.tests)

    @property
    def bound(self) -> int:
        return len(self.eq_paths) + len(self.tests)


@dataclass(frozen=True)
class FeatureLoad:
    """A sound bound, per fact, on what durable's matching stack holds for one ruleset (error 303 past 64).

    durable's alpha network is a tree of tests, shared by rules with the same leading tests; matching one fact
    pushes each node at most once, and only if its parent was pushed and its own test holds. A node testing a
    text feature (`_f.fN == 1`) holds only when the fact has that feature, and a title has a few: so a node at or
    below such a test counts only for facts with that feature (feature_load), which lets a stage's rules share
    fewer rulesets than the static bound (which counts every feature as matching) allows. A node with no feature
    test on its path counts always.
    """

    static: int                     # nodes that may hold for any fact (the anchor included)
    per_feature: dict               # feature id → nodes that can hold only when the fact has it
    most: int = 0                   # the largest per_feature value (a quick bound without the sum)

    def bound(self, features) -> int:
        if self.static + len(features) * self.most <= LIMIT_STACK:
            return self.static  # below the limit however the features fall: no need to add them up
        return self.static + sum(self.per_feature.get(f, 0) for f in features)


def feature_load(rules: list["CompiledRule"]) -> FeatureLoad:
    """Each alpha node of the ruleset's tree is charged to the first text feature on its path from the root (its
    own test included): it can be pushed only after that feature's node held, i.e. only when the fact has that
    feature. A node with no feature on its path is static."""
    nodes = {(tuple(tests[:depth]), test) for rule in rules for tests in (rule.tests,)
             for depth, test in enumerate(tests)}
    static, per_feature = 0, {}
    for prefix, test in nodes:
        feature = next((f for f in map(_feature_of, (*prefix, test)) if f is not None), None)
        if feature is None:
            static += 1
        else:
            per_feature[feature] = per_feature.get(feature, 0) + 1
    return FeatureLoad(static, per_feature, max(per_feature.values(), default=0))


def _feature_of(test: str) -> Optional[str]:
    """The feature id a test requires (`{"_f.f12": 1}`), else None."""
    (key, value), = json.loads(test).items()
    return key[len(_FEATURE_PREFIX):] if key.startswith(_FEATURE_PREFIX) and value == 1 else None


def _test_keys(condition: dict) -> list[str]:
    return [json.dumps(part, sort_keys=True, ensure_ascii=False) for part in condition["$and"]]


def term_load(condition: dict) -> MatchLoad:
    eq_paths, tests = set(), set()
    for part in condition["$and"]:
        (key, value), = part.items()
        if key.startswith("$"):
            tests.add(json.dumps(part, sort_keys=True, ensure_ascii=False))
        else:
            eq_paths.add(key)
    return MatchLoad(frozenset(eq_paths), frozenset(tests))


def presence_only(conditions) -> frozenset:
    """The paths that these conditions test only for being there (`$ex` / `$nex`), never for their value."""
    tested: dict[str, bool] = {}
    for condition in conditions:
        for part in condition["$and"]:
            (key, value), = part.items()
            path = next(iter(value)) if key.startswith("$") else key
            tested[path] = tested.get(path, True) and key in ("$ex", "$nex")
    return frozenset(path for path, only in tested.items() if only)


def condition_paths(condition: dict) -> list[str]:
    """The fact paths a durable condition tests (`{path: v}` or `{"$op": {path: v}}` parts of its `$and`)."""
    paths = []
    for part in condition["$and"]:
        (key, value), = part.items()
        paths.append(next(iter(value)) if key.startswith("$") else key)
    return paths


# ------------------------------------------------------------------ compiling rule sets
@dataclass
class CompiledRule:
    name: str                 # durable rule name (r0, r1, … in rulebook order; r7_0, r7_1 … for alternatives)
    rule: Any                 # the rulebook's Rule
    condition: dict           # durable JSON condition (without the `m` wrapper): one `$and`
    load: MatchLoad = field(default_factory=MatchLoad)
    term: tuple = ()          # the alternative's tests, for static analysis (lint.py)

    @property
    def tests(self) -> list[str]:
        return _test_keys(self.condition)


@dataclass
class CompiledStage:
    stage: str
    rules: dict[str, CompiledRule]          # durable rule name → compiled rule (several names per rule possible)
    rulesets: list[dict[str, dict]]         # durable ruleset definitions (fresh copies are made per Host)
    features: FeatureTable                  # the text tests this stage's rules use
    paths: frozenset = frozenset()          # every fact path the stage's conditions test (the anchor included)
    presence: frozenset = frozenset()       # of those, the paths tested only for being there ($ex / $nex)
    # the same rules in fewer rulesets, text features counted per fact instead of statically: (definition,
    # FeatureLoad) pairs, usable for a fact whose bound stays within LIMIT_STACK in each (else use `rulesets`);
    # empty when it would not save a ruleset
    merged: tuple = ()


@dataclass
class Compiled:
    stages: dict[str, CompiledStage]
    field_kinds: dict[str, str]             # fact field → "str" | "num" | "bool"

    def definitions(self) -> dict[str, dict]:
        """Every ruleset as {name: definition}, names stable: classify0, assign0, assign1, …"""
        out = {}
        for stage in STAGES:
            for i, ruleset in enumerate(self.stages[stage].rulesets):
                out[f"{stage}{i}"] = ruleset
        return out


def compile_rules(rules, locate: Callable[[Any, tuple], Location]) -> tuple[Compiled, list[Diagnostic]]:
    """Compile every rule's `when`. `locate(rule, path_in_when)` gives a Location for diagnostics."""
    diagnostics: list[Diagnostic] = []
    kinds: dict[str, str] = {}
    by_stage: dict[str, list[CompiledRule]] = {s: [] for s in STAGES}
    features: dict[tuple, Feature] = {}
    used: dict[str, set] = {s: set() for s in STAGES}
    for index, rule in enumerate(rules):
        condition = rule.condition
        if condition is None:
            continue  # no `when` (E305) or one that did not parse: reported by the rulebook
        rule_features: list[str] = []

        def feature_id(test: FieldTest) -> str:
            words = (test.value,) if test.op == "contains" else test.value
            kind = "sounds" if test.op == "sounds_like" else "words"
            key = (test.path, "pattern", test.value) if test.op == "matches" else \
                (test.path, kind, tuple(dict.fromkeys(words)))
            feature = features.get(key)
            if feature is None:
                feature = features[key] = Feature(f"f{len(features)}", test.path,
                                                  words=key[2] if key[1] != "pattern" else (),
                                                  pattern=test.value if test.op == "matches" else None,
                                                  matcher=test.pattern, sound=kind == "sounds")
            rule_features.append(feature.id)
            return feature.id

        try:
            terms = dnf(condition.tests(feature_id))
        except ConditionError as exc:
            diagnostics.append(Diagnostic(exc.code, exc.message, locate(rule, exc.where), rule.id, exc.suggestion))
            continue
        for name, kind in condition.kinds.items():
            kinds.setdefault(name, kind)
        conditions = [emit_term(term) for term in terms]
        loads = [term_load(c) for c in conditions]
        if max(load.bound for load in loads) > LIMIT_RANGE:
            diagnostics.append(Diagnostic(
                "E310", f"一条规则中可能同时成立的判断过多（超过 {LIMIT_RANGE} 个；durable_rules 上限 64）",
                locate(rule, ()), rule.id, "拆分为几条规则。"))
            continue
        names = [f"r{index}"] if len(conditions) == 1 else [f"r{index}_{k}" for k in range(len(conditions))]
        by_stage[rule.stage].extend(CompiledRule(n, rule, c, l, t) for n, c, l, t in zip(names, conditions, loads, terms))
        used[rule.stage].update(rule_features)
    stages = {s: CompiledStage(s, {c.name: c for c in by_stage[s]}, pack(by_stage[s]),
                               FeatureTable([f for f in features.values() if f.id in used[s]]),
                               frozenset(path for c in by_stage[s] for path in condition_paths(c.condition)))
              for s in STAGES}
    for s, stage in stages.items():
        stage.merged = merge(by_stage[s], len(stage.rulesets))
        stage.presence = presence_only(c.condition for c in by_stage[s])
    return Compiled(stages, kinds), diagnostics


def merge(compiled: list[CompiledRule], packed: int) -> tuple:
    """The rules packed with text features left out of the static load, each ruleset with its FeatureLoad;
    () when that saves no ruleset or some ruleset could never be used (its static load alone is too high)."""
    rulesets = pack(compiled, count_features=False)
    if len(rulesets) >= packed:
        return ()
    by_name = {rule.name: rule for rule in compiled}
    loads = [feature_load([by_name[name] for name in ruleset]) for ruleset in rulesets]
    if any(load.static > LIMIT_STACK for load in loads):
        return ()
    return tuple(zip(rulesets, loads))


def pack(compiled: list[CompiledRule], count_features: bool = True) -> list[dict[str, dict]]:
    """Put rules into as few rulesets as durable's limits allow, keeping rulebook order. With `count_features`
    off, text features do not count towards the 64-test bound (the caller checks them per fact: FeatureLoad)."""
    rulesets: list[dict[str, dict]] = []
    current: dict[str, dict] = {}
    children: dict[tuple, set] = {}
    load = MatchLoad()
    for rule in compiled:
        tests = rule.tests
        steps = [(tuple(tests[:depth]), test) for depth, test in enumerate(tests)]
        additions: dict[tuple, set] = {}
        for prefix, test in steps:
            if test not in children.get(prefix, ()):
                additions.setdefault(prefix, set()).add(test)
        too_wide = any(len(children.get(p, ())) + len(a) > LIMIT_CHILDREN for p, a in additions.items())
        rule_load = rule.load if count_features else rule.load.without_features()
        if current and (too_wide or len(current) >= LIMIT_RULES or (load + rule_load).bound > LIMIT_RANGE):
            rulesets.append(current)
            current, children, load = {}, {}, MatchLoad()
        for prefix, test in steps:
            children.setdefault(prefix, set()).add(test)
        load = load + rule_load
        current[rule.name] = {"all": [{"m": rule.condition}]}
    if current:
        rulesets.append(current)
    return rulesets
