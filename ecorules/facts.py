"""A matter → the one fact durable_rules sees, and the checks that refuse a matter before any rule runs.

The fact is a flat-ish dict: `_m` (the anchor every compiled condition tests first, see compiler.py), `title`
(whitespace folded), `level`, `district` (a code), `category`, `source`, `approved_by` {id, role,
jurisdiction}, `facts` {…}; the route stage adds `status`, `lead` {…} and `candidate_count`. Text features
(`_f`) are added per stage by the resolver. Nothing here evaluates a rule.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from pydantic import ValidationError

from .compiler import ANCHOR, MAX_TEXT_BYTES, FactError, shape_value
from .errors import MatterError, suggest
from .mentions import Mentions
from .mentions import read_by as mentions_read_by
from .model import Matter
from .orggraph import MUNICIPAL
from .places import Place, Places
from .rulebook import Rulebook

MAX_FACT_PROPERTIES = 200  # durable refuses facts with more than 253 properties (nested ones flattened)
_WHITESPACE = re.compile(r"\s+")


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

    def __init__(self, rulebook: Rulebook):
        self.org = rulebook.org
        self.categories = rulebook.categories
        self.field_kinds = rulebook.compiled.field_kinds
        self._category_ids = {spec.name: category_id for category_id, spec in rulebook.categories.items()}  # 名称 → id
        self.places = rulebook.places or Places(self.org)            # a Rulebook built by hand has none
        self.mentions = rulebook.mentions or Mentions(self.org)
        self.reads_named = mentions_read_by(rulebook.rules)

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
                fact[name] = shape_value(name, value, "str")
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
                raise MatterError(f"未知的审批部门 '{ref}'。{suggest(ref, self.org.reference_names(), '部门')}",
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
        raise MatterError(f"未知的事项类别 '{value}'。{suggest(value, [*self.categories, *self._category_ids], '类别')}",
                          "category")


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
