"""A matter → the one fact durable_rules sees, and the checks that refuse a matter before any rule runs.

The fact is a flat-ish dict: `_m` (the anchor every compiled condition tests first, see compiler.py), `title`
(whitespace folded), `level`, `district` (a code), `category`, `source`, `approved_by` {id, role,
jurisdiction}, `facts` {…}; the route stage adds `status`, `lead` {…} and `candidate_count`. Text features
(`_f`: {feature id: 1}) are added per stage by the resolver, computed by a stage's `FeatureTable`. Values are
shaped to the type the rules compare them with (`shape_value`). Nothing here evaluates a rule.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

import ahocorasick
from pydantic import ValidationError

from .errors import MatterError, suggest
from .mentions import Mentions
from .mentions import read_by as mentions_read_by
from .model import Matter
from .orggraph import MUNICIPAL
from .places import Place, Places
from .sounds import Readings
from .textscan import fold

if TYPE_CHECKING:  # the rulebook imports the compiler, which imports this module
    from .rulebook import Rulebook

ANCHOR = "_m"                # every compiled condition tests `_m == 1` first (compiler.py says why)
FEATURES = "_f"              # the fact key under which text-test features are handed to durable
MAX_TEXT_BYTES = 60_000      # durable compares strings ≥ 64 KiB on len mod 65536 bytes
MAX_FACT_PROPERTIES = 200  # durable refuses facts with more than 253 properties (nested ones flattened)
_WHITESPACE = re.compile(r"\s+")
_SUGGESTIONS_KEPT = 1024


@dataclass(frozen=True)
class MatterFact:
    """What the resolver starts from: the fact for durable and where the matter sits."""

    fact: dict
    jurisdiction: str
    level: str
    approved_by: Optional[str]
    place: Place            # how the jurisdiction was found (warnings, evidence for the explanation)


class FactBuilder:
    """Built once per rulebook; `build(matter)` is pure (safe to share between threads)."""

    def __init__(self, rulebook: "Rulebook"):
        self.org = rulebook.org
        self.categories = rulebook.categories
        self.field_kinds = rulebook.compiled.field_kinds
        self._category_ids = {spec.name: category_id for category_id, spec in rulebook.categories.items()}  # 名称 → id
        self.places = rulebook.places or Places(self.org)            # a Rulebook built by hand has none
        self.mentions = rulebook.mentions or Mentions(self.org)
        self.reads_named = mentions_read_by(rulebook.rules)
        self._suggestions: dict[tuple, str] = {}  # did-you-mean costs milliseconds; bad values repeat in a batch

    def build(self, matter: Matter) -> MatterFact:
        title = _WHITESPACE.sub(" ", matter.title).strip()
        # places.py reads the district field, else the title
        place = self.places.locate(matter.district, title, matter.level)
        try:
            return self._build(matter, title, place)
        except MatterError as exc:
            exc.warnings = place.warnings  # invalid for another field: what was learnt about the place still helps
            raise

    def _build(self, matter: Matter, title: str, place: Place) -> MatterFact:
        jurisdiction, level = place.jurisdiction, place.level
        if len(title.encode("utf-8")) > MAX_TEXT_BYTES:
            raise MatterError(f"标题过长（{len(title.encode('utf-8'))} 字节，上限 {MAX_TEXT_BYTES}）", "title")
        fact: dict = {ANCHOR: 1, "title": title, "level": level}
        if jurisdiction != MUNICIPAL:
            fact["district"] = jurisdiction
        for name in ("category", "source"):
            value = getattr(matter, name)
            if value is not None:
                # plain short text needs no shaping (4 UTF-8 bytes a character at most)
                short = value.__class__ is str and len(value) <= MAX_TEXT_BYTES // 4
                fact[name] = value if short else shape_value(name, value, "str")
        if "category" in fact:
            fact["category"] = self.category(fact["category"])
        approved = self.approved_by(matter, jurisdiction)
        if approved:
            data = self.org.node(approved)
            fact["approved_by"] = {"id": approved, "role": data["role"], "jurisdiction": data["jurisdiction"]}
        facts = self._facts(matter)
        if facts:
            fact["facts"] = facts
        if self.reads_named:  # named.*: the departments the title names — a fact for rules, never a decision
            fact.update(self.mentions.fact(self.mentions.find(title, jurisdiction)))
        return MatterFact(fact, jurisdiction, level, approved, place)

    def _facts(self, matter: Matter) -> dict:
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
        return facts

    def approved_by(self, matter: Matter, jurisdiction: str) -> Optional[str]:
        ref = matter.approved_by
        if ref is None:
            return None
        node = self.org.node_named(ref)
        if node is None:
            try:
                node = self.org.resolve(ref, jurisdiction)
            except KeyError:
                raise MatterError(f"未知的审批部门 '{ref}'。{self._suggest(ref, 'approved_by')}",
                                  "approved_by") from None
        if node is None:
            raise MatterError(f"审批部门 '{ref}' 在 {jurisdiction} 没有对应机构", "approved_by")
        return node

    def category(self, value: str) -> str:
        """A category id, or its Chinese name as an operator's sheet writes it (餐饮油烟 → catering_fumes)."""
        if not self.categories or value in self.categories:
            return value  # a rulebook without a category list accepts any id
        if value in self._category_ids:
            return self._category_ids[value]
        raise MatterError(f"未知的事项类别 '{value}'。{self._suggest(value, 'category')}", "category")

    def _suggest(self, value: str, field: str) -> str:
        key = (value, field)
        found = self._suggestions.get(key)
        if found is None:
            if len(self._suggestions) >= _SUGGESTIONS_KEPT:
                self._suggestions.clear()  # bounded: a batch of ever-new bad values must not grow memory
            allowed = self.org.reference_names() if field == "approved_by" else [*self.categories, *self._category_ids]
            found = self._suggestions[key] = suggest(value, allowed, "部门" if field == "approved_by" else "类别")
        return found


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


def given(matter: Matter, name: str) -> bool:
    """Whether the matter itself gives `name` (`category`, `facts.x`): text-derived values never replace it."""
    if name.startswith("facts."):
        return matter.facts.get(name[6:]) is not None
    return getattr(matter, name, None) is not None


def put(fact: dict, name: str, value) -> None:
    if name.startswith("facts."):
        fact.setdefault("facts", {})[name[6:]] = value
    else:
        fact[name] = value


# ------------------------------------------------------------------ values and text features
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


class FeatureTable:
    """Computes, for one fact, which text features hold: {feature id: 1}. Immutable once built.

    Every `contains` / `contains_any` word of a stage on one field goes into one Aho-Corasick automaton
    (pyahocorasick), so a title is read once, in C, whatever the number of words (measured on the fixtures
    and ticket sets, 1,409 words: 3.0 µs per title, against 6.7 µs for a scan indexed by first character
    and 20 µs for a pure-Python look-up of every substring). Words and titles are compared with Latin letters
    in any case ("Noise" and "noise", textscan.fold). `sounds_like` words go into an automaton of their own, over
    the text as it sounds: every character has one everyday reading in sounds.py's table, so "sounds like" is
    "the same character after each is replaced by the first character of its reading" (sounds.Readings), in one
    pass (tests/test_matchers.py compares it with a reference that compares characters one by one). `matches`
    patterns run one by one.
    """

    def __init__(self, features):
        self.features = tuple(features)
        words: dict[str, dict[str, dict]] = {}     # path → folded word → {feature id: 1}
        sounds: dict[str, dict[str, list]] = {}    # path → word heard → feature ids
        patterns: dict[str, list] = {}             # path → [(feature id, compiled pattern)]
        for feature in self.features:
            if getattr(feature, "sound", False):
                for word in feature.words:
                    sounds.setdefault(feature.path, {}).setdefault(word, []).append(feature.id)
            elif feature.pattern is None:
                for word in feature.words:
                    words.setdefault(feature.path, {}).setdefault(fold(word), {})[feature.id] = 1
            else:
                patterns.setdefault(feature.path, []).append((feature.id, feature.compile()))
        self._words = words
        self._sounds_heard = sounds
        self._patterns = patterns
        self._paths = tuple(dict.fromkeys([*words, *sounds, *patterns]))
        self._build()

    def _build(self):
        self._automata = {path: _automaton(table) for path, table in self._words.items()}
        self._sounds = {}
        self._readings = None
        if self._sounds_heard:
            self._readings = readings = Readings()
            for path, heard in self._sounds_heard.items():
                table: dict[str, dict] = {}
                for word, ids in heard.items():
                    if readings.hearable(word):
                        table.setdefault(readings.heard_as(word), {}).update(dict.fromkeys(ids, 1))
                if table:
                    self._sounds[path] = _automaton(table)

    def __getstate__(self):  # pickled without the automata (rebuilt on load: milliseconds)
        return {key: value for key, value in self.__dict__.items()
                if key not in ("_automata", "_sounds", "_readings")}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._build()

    def compute(self, fact: dict) -> dict:
        found = {}
        for path in self._paths:
            value = fact.get(path) if "." not in path else _lookup(fact, path)  # most text tests read `title`
            if not isinstance(value, str):
                continue
            automaton = self._automata.get(path)
            if automaton is not None:
                for _, ids in automaton.iter(fold(value)):  # every occurrence, overlapping ones included
                    found.update(ids)
            sounds = self._sounds.get(path)
            if sounds is not None:
                for _, ids in sounds.iter(self._readings.heard_as(value)):
                    found.update(ids)
            for feature_id, pattern in self._patterns.get(path, ()):
                if pattern.fullmatch(value):
                    found[feature_id] = 1
        return found


def _automaton(table: dict[str, dict]) -> ahocorasick.Automaton:
    automaton = ahocorasick.Automaton()
    for word, ids in table.items():
        automaton.add_word(word, ids)
    automaton.make_automaton()
    return automaton


def _lookup(fact: dict, path: str):
    value = fact
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value
