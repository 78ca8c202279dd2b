"""Rule conditions → durable_rules' JSON ruleset form. Pure data: this module never imports durable.

The condition language (docs/rulebook-format.md) is parsed into a small tree, negations are pushed
down to the tests (durable has no general `not`), and the tree is emitted as durable JSON. Every sharp
edge of durable_rules 2.0.28 that a rule could hit is refused or worked around here:

* every condition starts with the anchor test `_m == 1`, so no rule is made only of `$nex`, no `$and`
  is ever empty, and an equality test always comes first;
* text tests (`contains`, `contains_any`, `matches`) never reach durable's regex operator `$mt`, which
  answers wrongly (measured: `.*(abc|de).*` does not match "abcd"; `.*bbb.*` does not match
  "baabbbba"; `.*aaab.*` cannot even be registered). Each distinct text test becomes a *feature*:
  computed per matter by `FeatureTable` (plain substring search, or the documented pattern dialect
  translated to Python `re`), handed to durable as `_f.<id> = 1`, and tested there by equality
  (negation: the field exists and the feature does not);
* literals of one field must share one type (durable compares mixed types as text); floats that JSON
  would write with a bare exponent are refused (durable rejects `1e-05`);
* rules are packed into as many rulesets as needed so that no ruleset exceeds durable's limits
  (4096 rules, 512 distinct tests under one node, 64 range tests matching one fact).
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from .errors import Diagnostic, Location, suggest
from .patterns import MAX_STATES, Pattern, check_pattern

ANCHOR = "_m"
STAGES = ("classify", "assign", "route")
COMMON_FIELDS = {
    "title": "str", "category": "str", "level": "str", "district": "str", "source": "str",
    "approved_by": "str", "approved_by.role": "str", "approved_by.jurisdiction": "str",
}
# the departments a title names (mentions.py): the first one, how many, and every role named
NAMED_FIELDS = {"named.role": "str", "named.level": "str", "named.id": "str", "named.jurisdiction": "str",
                "named.former": "bool", "named.count": "num", "named.roles": "str"}
COMMON_FIELDS.update(NAMED_FIELDS)
ROUTE_FIELDS = {
    "status": "str", "lead": "str", "lead.role": "str", "lead.kind": "str", "lead.enforcement": "str",
    "lead.jurisdiction": "str", "candidate_count": "num",
}
# fields that name a nested object in the fact: a test on the bare name tests its id
_OBJECT_FIELDS = {"approved_by": "approved_by.id", "lead": "lead.id"}
TESTS = ("in", "not", "exists", "gt", "gte", "lt", "lte", "contains", "contains_any", "matches")
_RANGE = {"gt": "$gt", "gte": "$gte", "lt": "$lt", "lte": "$lte"}
_NEGATE_RANGE = {"gt": "lte", "gte": "lt", "lt": "gte", "lte": "gt"}
_FACT_NAME = re.compile(r"^facts\.[A-Za-z_\u4e00-\u9fff][A-Za-z0-9_\u4e00-\u9fff]*$")
MAX_TEXT_BYTES = 60_000          # durable compares strings ≥ 64 KiB on len mod 65536 bytes
LIMIT_RULES = 4000               # durable: error 106 above 4096 rules per ruleset
LIMIT_CHILDREN = 500             # durable: create_ruleset hangs at the 513th distinct test under a node
LIMIT_RANGE = 60                 # durable: error 303 above 64 non-equality or $or-branch tests matching one fact


def fields_for(stage: str) -> dict[str, str]:
    return {**COMMON_FIELDS, **ROUTE_FIELDS} if stage == "route" else dict(COMMON_FIELDS)


# ------------------------------------------------------------------ condition tree
@dataclass(frozen=True)
class Test:
    path: str      # durable path, e.g. "category", "facts.crime", "lead.id"
    op: str        # eq | neq | gt | gte | lt | lte | exists | nexists | has | hasnot
    value: Any = None  # the literal; for has / hasnot the feature id


@dataclass(frozen=True)
class All:
    items: tuple


@dataclass(frozen=True)
class Any_:
    items: tuple


class ConditionError(Exception):
    def __init__(self, code: str, message: str, where: tuple, suggestion: str | None = None):
        super().__init__(message)
        self.code, self.message, self.where, self.suggestion = code, message, where, suggestion


FEATURES = "_f"  # the fact key under which text-test features are handed to durable


@dataclass(frozen=True)
class Feature:
    """One distinct text test: does field `path` contain any of `words` / fully match `pattern`?"""

    id: str
    path: str
    words: tuple = ()
    pattern: Optional[str] = None

    def compile(self):
        return Pattern(self.pattern) if self.pattern is not None else None


class FeatureTable:
    """Computes, for one fact, which text features hold: {feature id: 1}. Immutable once built.

    Word lists are indexed by first character, so a short ticket title is checked against the few
    words that can occur in it rather than against every word of the rulebook.
    """

    def __init__(self, features: list[Feature]):
        self.features = tuple(features)
        words: dict[str, dict[str, list]] = {}     # path → word → feature ids
        patterns: dict[str, list] = {}             # path → [(feature id, compiled regex)]
        for feature in features:
            if feature.pattern is None:
                for word in feature.words:
                    words.setdefault(feature.path, {}).setdefault(word, []).append(feature.id)
            else:
                patterns.setdefault(feature.path, []).append((feature.id, feature.compile()))
        self._by_first_char = {
            path: _index_by_first_char(table) for path, table in words.items()}
        self._patterns = patterns
        self._paths = tuple(dict.fromkeys([*words, *patterns]))

    def compute(self, fact: dict) -> dict:
        found = {}
        for path in self._paths:
            value = _lookup(fact, path)
            if not isinstance(value, str):
                continue
            index = self._by_first_char.get(path)
            if index:
                for char in set(value):
                    for word, ids in index.get(char, ()):
                        if word in value:
                            for feature_id in ids:
                                found[feature_id] = 1
            for feature_id, regex in self._patterns.get(path, ()):
                if regex.fullmatch(value):
                    found[feature_id] = 1
        return found


def _index_by_first_char(table: dict[str, list]) -> dict[str, tuple]:
    index: dict[str, list] = {}
    for word, ids in table.items():
        index.setdefault(word[0], []).append((word, tuple(ids)))
    return {char: tuple(items) for char, items in index.items()}


def _lookup(fact: dict, path: str):
    value = fact
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


class ConditionParser:
    """Parses one rule's `when` into a tree, recording the kinds of literals per field."""

    def __init__(self, stage: str, kinds: Optional[dict] = None, origins: Optional[dict] = None,
                 features: Optional[dict] = None):
        self.fields = fields_for(stage)
        self.features: dict[tuple, Feature] = features if features is not None else {}  # shared, deduplicated
        self.used: list[str] = []   # ids of the features this rule's condition uses
        self.kinds: dict[str, str] = dict(kinds or {})   # field → "str" | "num" | "bool" (as used by literals)
        self.origins: dict[str, str] = origins or {}     # field → id of the rule that first fixed its type

    def parse(self, when: dict) -> All:
        return self._mapping(when, ())

    def _mapping(self, mapping, where) -> All:
        if not isinstance(mapping, dict):
            raise ConditionError("E105", "条件必须是映射（字段: 判断）", where)
        if not mapping:
            raise ConditionError("E304", "条件为空", where, "删除空条件，或写出至少一个字段。")
        items = []
        for key, value in mapping.items():
            here = where + (key,)
            if key in ("any", "all"):
                if not isinstance(value, list) or not value:
                    raise ConditionError("E304", f"'{key}' 需要至少含一项的列表", here)
                parts = tuple(self._mapping(v, here + (i,)) for i, v in enumerate(value))
                items.append(Any_(parts) if key == "any" else All(parts))
            elif key == "not":
                items.append(negate(self._mapping(value, here)))
            else:
                items.append(self._field(str(key), value, here))
        return All(tuple(items))

    def _field(self, name: str, test, where):
        kind = self.fields.get(name)
        if kind is None and not _FACT_NAME.match(name):
            allowed = [*self.fields, "facts.<名称>"]
            raise ConditionError("E202", f"未知字段 '{name}'", where, suggest(name, allowed, "字段"))
        path = _OBJECT_FIELDS.get(name, name)
        return self._test(name, path, kind, test, where)

    def _literal(self, name, kind, value, where, what="值"):
        if isinstance(value, bool):
            got = "bool"
        elif isinstance(value, (int, float)):
            got = "num"
            if isinstance(value, float) and (math.isnan(value) or math.isinf(value) or
                                             ("e" in repr(value) and "." not in repr(value))):
                raise ConditionError("E309", f"数值 {value} 太小或太大，durable_rules 无法比较", where,
                                     "绝对值需在 0.0001 到 1e16 之间（或为 0）；请换算单位。")
        elif isinstance(value, str):
            got = "str"
            if len(value.encode("utf-8")) > MAX_TEXT_BYTES:
                raise ConditionError("E309", "文字过长（超过 60000 字节）", where)
        else:
            shown = "列表" if isinstance(value, list) else "映射" if isinstance(value, dict) else "空值"
            raise ConditionError("E105", f"{what}必须是文字、数字或 true/false，这里是{shown}", where,
                                 "要判断字段是否存在请用 {exists: true}。")
        expected = kind or self.kinds.get(name)
        if expected and expected != got:
            origin = "" if kind else f"（规则 {self.origins.get(name, '?')} 中用的是{_KIND_ZH[expected]}）"
            raise ConditionError("E306", f"字段 '{name}' 的值类型应为{_KIND_ZH[expected]}{origin}，这里是{_KIND_ZH[got]}",
                                 where, "同一字段在全部规则中只能用一种类型的值。")
        self.kinds[name] = got
        return value

    def _test(self, name, path, kind, test, where):
        if isinstance(test, list):
            raise ConditionError("E105", f"字段 '{name}' 的值是列表；要匹配其中任一个值请写 {{in: [...]}}", where,
                                 f"例如 {name}: {{in: [{', '.join(map(str, test[:2]))}]}}")
        if test is None:
            raise ConditionError("E105", f"字段 '{name}' 的值为空", where,
                                 "写出要比较的值；要判断字段是否存在请用 {exists: true}。")
        if not isinstance(test, dict):
            return Test(path, "eq", self._literal(name, kind, test, where))
        if len(test) != 1:
            raise ConditionError("E105", "每个判断只能有一个运算，如 {in: [...]}；多个条件请用 all:", where)
        (op, arg), = test.items()
        here = where + (op,)
        if op not in TESTS:
            raise ConditionError("E203", f"未知的判断 '{op}'", here, suggest(op, TESTS, "判断"))
        if op == "in":
            if not isinstance(arg, list) or not arg:
                raise ConditionError("E304", "'in' 需要至少含一个值的列表", here)
            values = [self._literal(name, kind, v, here + (i,)) for i, v in enumerate(arg)]
            return Any_(tuple(Test(path, "eq", v) for v in dict.fromkeys(values)))
        if op == "not":
            return negate(self._test(name, path, kind, arg, here))
        if op == "exists":
            if not isinstance(arg, bool):
                raise ConditionError("E105", "'exists' 的值必须是 true 或 false", here)
            return Test(path, "exists" if arg else "nexists")
        if op in _RANGE:
            if isinstance(arg, bool) or not isinstance(arg, (int, float)):
                hint = "（YAML 把 1e-05 这样不带小数点的写法读成文字）" if isinstance(arg, str) and "e" in arg.lower() else ""
                raise ConditionError("E105", f"'{op}' 需要一个数字，得到 {arg!r}{hint}", here)
            self._literal(name, kind, arg, here)
            return Test(path, op, arg)
        words = [arg] if op in ("contains", "matches") else arg
        if op == "contains_any" and (not isinstance(arg, list) or not arg):
            raise ConditionError("E304", "'contains_any' 需要至少含一个词的列表", here)
        for i, word in enumerate(words):
            spot = here + (i,) if op == "contains_any" else here
            if not isinstance(word, str) or not word:
                got = f"，得到 {word!r}（数字等请加引号，如 \"{word}\"）" if isinstance(word, (int, float)) else ""
                raise ConditionError("E105", f"'{op}' 需要非空文字{got}", spot)
            self._literal(name, kind, word, spot)
        if op == "matches":
            problem = check_pattern(arg)
            if not problem:
                try:
                    Pattern(arg)
                except ValueError:
                    problem = (0, f"嵌套的重复次数相乘后过大（超过 {MAX_STATES} 个状态）")
            if problem:
                column, message = problem
                raise ConditionError("E303", f"模式 '{arg}' 第 {column + 1} 个字符处：{message}", here,
                                     "模式语法见 docs/rulebook-format.md；普通词语请用 contains。")
            key = (path, "pattern", arg)
        else:
            key = (path, "words", tuple(dict.fromkeys(words)))
        feature = self.features.get(key)
        if feature is None:
            feature = self.features[key] = Feature(f"f{len(self.features)}", path,
                                                   words=key[2] if key[1] == "words" else (),
                                                   pattern=arg if op == "matches" else None)
        self.used.append(feature.id)
        return Test(path, "has", feature.id)


_KIND_ZH = {"str": "文字", "num": "数字", "bool": "是非(true/false)"}
_NEGATE_EQ = {"eq": "neq", "neq": "eq", "exists": "nexists", "nexists": "exists", "has": "hasnot", "hasnot": "has"}


def negate(node):
    """not(node), pushed down to the tests. Missing fields stay false under `not` (three-valued logic)."""
    if isinstance(node, All):
        return Any_(tuple(negate(n) for n in node.items))
    if isinstance(node, Any_):
        return All(tuple(negate(n) for n in node.items))
    if node.op in _NEGATE_EQ:
        return Test(node.path, _NEGATE_EQ[node.op], node.value)
    return Test(node.path, _NEGATE_RANGE[node.op], node.value)


# ------------------------------------------------------------------ emitting durable JSON
MAX_TERMS = 64  # alternatives one rule may expand to (any / in multiply out)


def dnf(node) -> list[tuple]:
    """The condition as alternatives of conjunctions: [(test, test, …), …], duplicates removed.

    Each alternative becomes one durable rule made only of an `$and`: durable refuses some nested
    `$or`/`$and` shapes (error 113, e.g. and(or(and(or(…))))), counts `$or` branches per rule toward its
    limit of 64 tests matching a fact, and fires an `$or` once per true branch."""
    if isinstance(node, Test):
        return [(node,)]
    if isinstance(node, Any_):
        terms = [term for item in node.items for term in dnf(item)]
    else:
        terms = [()]
        for item in node.items:
            terms = [a + b for a in terms for b in dnf(item)]
            if len(terms) > MAX_TERMS:
                break
    unique = list(dict.fromkeys(tuple(dict.fromkeys(term)) for term in terms))
    if len(unique) > MAX_TERMS:
        raise ConditionError("E310", f"条件展开后有超过 {MAX_TERMS} 种组合（any / in 相乘）", (),
                             "拆分为几条规则，或减少 any / in 的嵌套。")
    return unique


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

    @property
    def bound(self) -> int:
        return len(self.eq_paths) + len(self.tests)


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
    kind_where: dict[str, tuple] = {}
    by_stage: dict[str, list[CompiledRule]] = {s: [] for s in STAGES}
    features: dict[tuple, Feature] = {}
    used: dict[str, set] = {s: set() for s in STAGES}
    for index, rule in enumerate(rules):
        parser = ConditionParser(rule.stage, kinds, kind_where, features)
        try:
            tree = parser.parse(rule.when) if rule.when is not None else All(())
            terms = dnf(tree)
        except ConditionError as exc:
            diagnostics.append(Diagnostic(exc.code, exc.message, locate(rule, exc.where), rule.id, exc.suggestion))
            continue
        for name, kind in parser.kinds.items():
            if name not in kinds:
                kinds[name] = kind
                kind_where[name] = rule.id
        conditions = [emit_term(term) for term in terms]
        loads = [term_load(c) for c in conditions]
        if max(load.bound for load in loads) > LIMIT_RANGE:
            diagnostics.append(Diagnostic(
                "E310", f"一条规则中可能同时成立的判断过多（超过 {LIMIT_RANGE} 个；durable_rules 上限 64）",
                locate(rule, ()), rule.id, "拆分为几条规则。"))
            continue
        names = [f"r{index}"] if len(conditions) == 1 else [f"r{index}_{k}" for k in range(len(conditions))]
        by_stage[rule.stage].extend(CompiledRule(n, rule, c, l, t) for n, c, l, t in zip(names, conditions, loads, terms))
        used[rule.stage].update(parser.used)
    stages = {s: CompiledStage(s, {c.name: c for c in by_stage[s]}, pack(by_stage[s]),
                               FeatureTable([f for f in features.values() if f.id in used[s]])) for s in STAGES}
    return Compiled(stages, kinds), diagnostics


def pack(compiled: list[CompiledRule]) -> list[dict[str, dict]]:
    """Put rules into as few rulesets as durable's limits allow, keeping rulebook order."""
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
        if current and (too_wide or len(current) >= LIMIT_RULES or (load + rule.load).bound > LIMIT_RANGE):
            rulesets.append(current)
            current, children, load = {}, {}, MatchLoad()
        for prefix, test in steps:
            children.setdefault(prefix, set()).add(test)
        load = load + rule.load
        current[rule.name] = {"all": [{"m": rule.condition}]}
    if current:
        rulesets.append(current)
    return rulesets


# ------------------------------------------------------------------ facts
class FactError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


_TRUE = {"true", "yes", "y", "1", "是", "真", "对"}
_FALSE = {"false", "no", "n", "0", "否", "假", "不是"}


def shape_value(name: str, value, kind: Optional[str]):
    """Convert one fact value to the type the rules compare it with, or refuse it clearly."""
    if value is None:
        return None
    if kind == "num":
        if isinstance(value, bool):
            raise FactError(name, f"应为数字，得到 {value!r}")
        if isinstance(value, str):
            try:
                value = float(value.strip()) if any(c in value for c in ".eE") else int(value.strip())
            except ValueError:
                raise FactError(name, f"应为数字，得到 '{value}'") from None
    elif kind == "bool":
        if isinstance(value, str):
            text = value.strip().lower()
            if text in _TRUE:
                return True
            if text in _FALSE:
                return False
            raise FactError(name, f"应为 true/false（是/否），得到 '{value}'")
        if isinstance(value, (int, float)) and value in (0, 1):
            return bool(value)
        if not isinstance(value, bool):
            raise FactError(name, f"应为 true/false（是/否），得到 {value!r}")
    elif kind == "str" and not isinstance(value, str):
        value = json.dumps(value) if isinstance(value, bool) else str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise FactError(name, "数值无效")
        if "e" in repr(value) and "." not in repr(value):
            # JSON would write it as 1e-05, which durable rejects; no lossless rewrite exists
            raise FactError(name, f"数值 {value!r} 超出可比较的范围（绝对值需在 0.0001 到 1e16 之间，或为 0）；"
                                  "请换算单位后再填")
    if isinstance(value, str) and len(value.encode("utf-8")) > MAX_TEXT_BYTES:
        raise FactError(name, f"文字过长（{len(value.encode('utf-8'))} 字节，上限 {MAX_TEXT_BYTES}）")
    return value
