"""The condition language of `when`, parsed once: one tree per rule, read by the compiler, the rulebook's
checks and lint alike.

`parse_when` turns a rule's `when` (a mapping, or the word `always`) into a `Condition`: a tree of
`AllOf` / `AnyOf` / `Not` / `FieldTest` nodes, each remembering where in `when` it was written, with
every `matches` pattern parsed and compiled once (patterns.py). Errors are `ConditionError`s (code,
message, path in `when`, suggestion); the first one ends the parse of that rule. Literals of one field
must share one type across the whole rulebook (durable compares mixed types as text), so the parse
of a rulebook's rules shares one `Context`, in rulebook order.

Readers:
* the compiler turns the tree into tests with negations pushed down (`tests`), then into alternatives
  (`dnf`), then into durable JSON;
* rulebook.py asks `literals("category")`, `fields()`, `pinned("level")`;
* lint reads the same alternatives (`dnf`) to build witness matters, and `patterns.sample` for text.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Union

from .errors import suggest
from .patterns import Pattern, PatternError, parse_pattern
from .sounds import Readings

ALWAYS = "always"   # `when: always`: the rule applies to every matter (a rule without `when` is E305)
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
OBJECT_FIELDS = {"approved_by": "approved_by.id", "lead": "lead.id"}
TESTS = ("in", "not", "exists", "gt", "gte", "lt", "lte", "contains", "contains_any", "sounds_like", "matches")
RANGES = ("gt", "gte", "lt", "lte")
TEXT_TESTS = ("contains", "contains_any", "sounds_like", "matches")
MAX_TEXT_BYTES = 60_000   # durable compares strings ≥ 64 KiB on len mod 65536 bytes (same bound as compiler.py)
MAX_TERMS = 64            # alternatives one rule may expand to (any / in multiply out)
_FACT_NAME = re.compile(r"^facts\.[A-Za-z_\u4e00-\u9fff][A-Za-z0-9_\u4e00-\u9fff]*$")
_KIND_ZH = {"str": "文字", "num": "数字", "bool": "是非(true/false)"}


def fields_for(stage: str) -> dict[str, str]:
    return {**COMMON_FIELDS, **ROUTE_FIELDS} if stage == "route" else dict(COMMON_FIELDS)


class ConditionError(Exception):
    def __init__(self, code: str, message: str, where: tuple, suggestion: str | None = None):
        super().__init__(message)
        self.code, self.message, self.where, self.suggestion = code, message, where, suggestion


# ---------------------------------------------------------------- the tree, as written
@dataclass(frozen=True)
class FieldTest:
    """One test on one field, as written: `category: x`, `title: {contains: 油烟}`, `facts.n: {gt: 3}`."""

    field: str                 # as written: category, approved_by, facts.crime
    path: str                  # in the fact handed to durable: approved_by → approved_by.id
    op: str                    # eq | in | exists | gt | gte | lt | lte | contains | contains_any | matches
    value: Any                 # eq: the literal; in / contains_any: a tuple; exists: bool; matches: the text
    where: tuple               # path of the test inside `when`
    pattern: Optional[Pattern] = field(default=None, compare=False, repr=False)  # matches: compiled once


@dataclass(frozen=True)
class AllOf:
    items: tuple
    where: tuple = ()


@dataclass(frozen=True)
class AnyOf:
    items: tuple
    where: tuple = ()


@dataclass(frozen=True)
class Not:
    item: "Node"
    where: tuple = ()


Node = Union[FieldTest, AllOf, AnyOf, Not]


@dataclass(frozen=True)
class Condition:
    """The parsed `when` of one rule. `root` is AllOf(()) for `when: always`."""

    root: Node
    always: bool = False
    kinds: dict = field(default_factory=dict, compare=False)  # field → type of the literals this rule compares it with

    def field_tests(self) -> list[FieldTest]:
        """Every test, in the order written."""
        found, stack = [], [self.root]
        while stack:
            node = stack.pop()
            if isinstance(node, FieldTest):
                found.append(node)
            elif isinstance(node, Not):
                stack.append(node.item)
            else:
                stack.extend(reversed(node.items))
        return found

    def literals(self, name: str) -> list[tuple[Any, tuple]]:
        """(value, where) of every literal a test on field `name` compares with (equality and `in`)."""
        found = []
        for test in self.field_tests():
            if test.field != name:
                continue
            if test.op == "eq":
                found.append((test.value, test.where))
            elif test.op == "in":
                found += [(value, test.where + (i,)) for i, value in enumerate(test.value)]
        return found

    def fields(self) -> set[str]:
        """The fields tested; `approved_by.role` counts as `approved_by`."""
        return {t.field.split(".")[0] if t.field.startswith("approved_by") else t.field for t in self.field_tests()}

    def pinned(self, name: str) -> Optional[Any]:
        """The value every matter the rule fires on has in field `name`, when the top level (or an `all:` in
        it) tests it by equality; else None."""
        stack = [self.root]
        while stack:
            node = stack.pop()
            if isinstance(node, AllOf):
                stack.extend(reversed(node.items))
            elif isinstance(node, FieldTest) and node.field == name and node.op == "eq":
                return node.value
        return None

    def tests(self, text: Optional[Callable[[FieldTest], Any]] = None) -> "Union[Test, All, Any_]":
        """The condition as tests with every negation pushed down to them (three-valued: a missing field
        stays false under `not`). A text test becomes Test(path, "has", text(field_test)): the compiler
        passes its feature naming; by default the value is (op, value), so equal tests compare equal."""
        return _lower(self.root, text or (lambda test: (test.op, test.value)))


@dataclass
class Context:
    """What the parse of one rule needs from the rules before it: the type of each field's literals."""

    kinds: dict = field(default_factory=dict)     # field → "str" | "num" | "bool"
    origins: dict = field(default_factory=dict)   # field → id of the rule that first fixed its type
    readings: Optional[Readings] = None           # loaded at the first sounds_like, once per rulebook parse


# ---------------------------------------------------------------- the one parser
def parse_when(when: Any, stage: str, context: Optional[Context] = None, rule_id: str = "?") -> Condition:
    """Parse a rule's `when`; ConditionError at the first problem. `context` is updated only on success."""
    context = context if context is not None else Context()
    if when == ALWAYS:
        return Condition(AllOf(()), always=True)
    parser = _Parser(stage, context)
    root = parser.mapping(when, ())
    for name, kind in parser.used.items():
        if name not in context.kinds:
            context.kinds[name] = kind
            context.origins[name] = rule_id
    return Condition(root, kinds=parser.used)


class _Parser:
    def __init__(self, stage: str, context: Context):
        self.fields = fields_for(stage)
        self.context = context
        self.kinds: dict[str, str] = dict(context.kinds)
        self.used: dict[str, str] = {}   # field → kind, for the fields this rule compares with literals

    def mapping(self, mapping, where) -> AllOf:
        if isinstance(mapping, str) and where == ():
            raise ConditionError("E105", f"条件应为映射（字段: 判断）或 always，这里是 '{mapping}'", where,
                                 suggest(mapping, [ALWAYS], "写法"))
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
                parts = tuple(self.mapping(v, here + (i,)) for i, v in enumerate(value))
                items.append(AnyOf(parts, here) if key == "any" else AllOf(parts, here))
            elif key == "not":
                items.append(Not(self.mapping(value, here), here))
            else:
                items.append(self.field(str(key), value, here))
        return AllOf(tuple(items), where)

    def field(self, name: str, test, where) -> Node:
        kind = self.fields.get(name)
        if kind is None and not _FACT_NAME.match(name):
            allowed = [*self.fields, "facts.<名称>"]
            raise ConditionError("E202", f"未知字段 '{name}'", where, suggest(name, allowed, "字段"))
        return self.test(name, OBJECT_FIELDS.get(name, name), kind, test, where)

    def literal(self, name, kind, value, where, what="值"):
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
            origin = "" if kind else f"（规则 {self.context.origins.get(name, '?')} 中用的是{_KIND_ZH[expected]}）"
            raise ConditionError("E306", f"字段 '{name}' 的值类型应为{_KIND_ZH[expected]}{origin}，这里是{_KIND_ZH[got]}",
                                 where, "同一字段在全部规则中只能用一种类型的值。")
        self.kinds[name] = self.used[name] = got
        return value

    def test(self, name, path, kind, test, where) -> Node:
        if isinstance(test, list):
            raise ConditionError("E105", f"字段 '{name}' 的值是列表；要匹配其中任一个值请写 {{in: [...]}}", where,
                                 f"例如 {name}: {{in: [{', '.join(map(str, test[:2]))}]}}")
        if test is None:
            raise ConditionError("E105", f"字段 '{name}' 的值为空", where,
                                 "写出要比较的值；要判断字段是否存在请用 {exists: true}。")
        if not isinstance(test, dict):
            return FieldTest(name, path, "eq", self.literal(name, kind, test, where), where)
        if len(test) != 1:
            raise ConditionError("E105", "每个判断只能有一个运算，如 {in: [...]}；多个条件请用 all:", where)
        (op, arg), = test.items()
        here = where + (op,)
        if op not in TESTS:
            raise ConditionError("E203", f"未知的判断 '{op}'", here, suggest(op, TESTS, "判断"))
        if op == "in":
            if not isinstance(arg, list) or not arg:
                raise ConditionError("E304", "'in' 需要至少含一个值的列表", here)
            values = [self.literal(name, kind, v, here + (i,)) for i, v in enumerate(arg)]
            return FieldTest(name, path, "in", tuple(values), here)
        if op == "not":
            return Not(self.test(name, path, kind, arg, here), here)
        if op == "exists":
            if not isinstance(arg, bool):
                raise ConditionError("E105", "'exists' 的值必须是 true 或 false", here)
            return FieldTest(name, path, "exists", arg, here)
        if op in RANGES:
            if isinstance(arg, bool) or not isinstance(arg, (int, float)):
                hint = "（YAML 把 1e-05 这样不带小数点的写法读成文字）" if isinstance(arg, str) and "e" in arg.lower() else ""
                raise ConditionError("E105", f"'{op}' 需要一个数字，得到 {arg!r}{hint}", here)
            self.literal(name, kind, arg, here)
            return FieldTest(name, path, op, arg, here)
        words = [arg] if op in ("contains", "matches") else arg
        if op in ("contains_any", "sounds_like") and (not isinstance(arg, list) or not arg):
            raise ConditionError("E304", f"'{op}' 需要至少含一个词的列表", here)
        for i, word in enumerate(words):
            spot = here + (i,) if op in ("contains_any", "sounds_like") else here
            if not isinstance(word, str) or not word:
                got = f"，得到 {word!r}（数字等请加引号，如 \"{word}\"）" if isinstance(word, (int, float)) else ""
                raise ConditionError("E105", f"'{op}' 需要非空文字{got}", spot)
            self.literal(name, kind, word, spot)
        if op == "matches":
            try:
                pattern = Pattern(arg, parse_pattern(arg))
            except PatternError as exc:
                suggestion = ("用更少的嵌套或更小的 {n,m}；要在文字中查找词语请用 contains / contains_any。"
                              if exc.code == "E313" else "模式语法见 docs/rulebook-format.md；普通词语请用 contains。")
                raise ConditionError(exc.code, f"模式 '{arg}' 第 {exc.column + 1} 个字符处：{exc.message}", here,
                                     suggestion) from None
            return FieldTest(name, path, "matches", arg, here, pattern)
        if op == "sounds_like":
            if self.context.readings is None:
                self.context.readings = Readings()
            for i, word in enumerate(words):
                if not self.context.readings.hearable(word):
                    raise ConditionError("E316", f"'sounds_like' 只听得出两个字以上的常用汉字词，'{word}' 不是", here + (i,),
                                         "这个词请写进 contains_any；sounds_like 用来容忍同音错字（饭点油眼 → 饭店油烟）。")
        return FieldTest(name, path, op, arg if op == "contains" else tuple(arg), here)


# ---------------------------------------------------------------- tests with negations pushed down
@dataclass(frozen=True)
class Test:
    path: str      # durable path, e.g. "category", "facts.crime", "lead.id"
    op: str        # eq | neq | gt | gte | lt | lte | exists | nexists | has | hasnot
    value: Any = None  # the literal; for has / hasnot what names the text test (the compiler: a feature id)


@dataclass(frozen=True)
class All:
    items: tuple


@dataclass(frozen=True)
class Any_:
    items: tuple


_NEGATE_RANGE = {"gt": "lte", "gte": "lt", "lt": "gte", "lte": "gt"}
_NEGATE_EQ = {"eq": "neq", "neq": "eq", "exists": "nexists", "nexists": "exists", "has": "hasnot", "hasnot": "has"}


def _lower(node: Node, text: Callable[[FieldTest], Any]):
    if isinstance(node, AllOf):
        return All(tuple(_lower(n, text) for n in node.items))
    if isinstance(node, AnyOf):
        return Any_(tuple(_lower(n, text) for n in node.items))
    if isinstance(node, Not):
        return negate(_lower(node.item, text))
    if node.op == "eq":
        return Test(node.path, "eq", node.value)
    if node.op == "in":
        return Any_(tuple(Test(node.path, "eq", v) for v in dict.fromkeys(node.value)))
    if node.op == "exists":
        return Test(node.path, "exists" if node.value else "nexists")
    if node.op in RANGES:
        return Test(node.path, node.op, node.value)
    return Test(node.path, "has", text(node))  # a text test: the compiler names it as a feature


def negate(node):
    """not(node), pushed down to the tests. Missing fields stay false under `not` (three-valued logic)."""
    if isinstance(node, All):
        return Any_(tuple(negate(n) for n in node.items))
    if isinstance(node, Any_):
        return All(tuple(negate(n) for n in node.items))
    if node.op in _NEGATE_EQ:
        return Test(node.path, _NEGATE_EQ[node.op], node.value)
    return Test(node.path, _NEGATE_RANGE[node.op], node.value)


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
