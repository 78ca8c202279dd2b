"""Which departments does a matter's title name? 环保局, 市交通委, 区绿化市容局, 浦东新区生态环境局, 派出所 …

One job: `Mentions.find(title, jurisdiction)` → the departments named, in order, each with the level the text
gives it; `Mentions.fact(...)` encodes them for rules as the `named` object (named.role, named.level, named.id,
named.jurisdiction, named.former, named.count, named.roles). What the text names is a fact for rules to test,
never a decision: it does not touch `approved_by`, `category` or `facts` (the matter's own fields).

Names read: every body's full and short name (黄浦区建设管理委 → huangpu.zjw), every role's name and alias in the
org data, the district templates (区生态环境局), and the colloquial names of `aliases:` files (spec.AliasesFile).
The level comes from the name itself (a body's name; `level:` of an alias: 派出所 is district-level), else from what
is written just before it: a district's name (浦东新区环保局 → pudong), 市 (市环保局 → municipal), 区 (区城管 →
the matter's district). Built once per rulebook; validates the aliases (E209, E362); read-only afterwards.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional

from .errors import Diagnostic, suggest
from .orggraph import MUNICIPAL, Located, OrgGraph
from .textscan import Scanner

FIELDS = {"named.role": "str", "named.level": "str", "named.id": "str", "named.jurisdiction": "str",
          "named.former": "bool", "named.count": "num", "named.roles": "str"}
_IGNORE = "ignore"
# words ending in 区 / 市 that are not a level (小区城管 is not 区城管; 超市 is not 市)
_NOT_DISTRICT = ("小区", "社区", "园区", "景区", "厂区", "校区", "街区", "片区", "营区", "城区", "辖区外")
_NOT_CITY = ("超市", "城市", "门市", "菜市", "夜市", "集市", "股市", "楼市")


@dataclass(frozen=True)
class _Name:
    role: str
    level: Optional[str] = None          # municipal | district | None (from the words before it)
    node: Optional[str] = None           # the body, when the name is a body's own name
    former: bool = False


@dataclass(frozen=True)
class Mention:
    """One department the text names."""

    text: str                            # as written, with the words that gave its level (市交通委, 浦东新区环保局)
    role: str
    level: Optional[str]                 # municipal | district | None (the text does not say)
    jurisdiction: Optional[str]          # where the body sits: sh, a district, or None when unknown
    node: Optional[str]                  # the body (e.g. sh.jtw), when it can be told
    former: bool = False                 # named by a former name (工商 → 市场监管)


class Mentions:
    """The department names of one rulebook: built once, read-only afterwards (safe to share between threads)."""

    def __init__(self, org: OrgGraph, aliases: Iterable[Located] = (), ignore: Iterable[str] = ()):
        self.org = org
        self.diagnostics: list[Diagnostic] = []
        words: dict[str, object] = {word: _IGNORE for word in ignore}
        for node, data in org.graph.nodes(data=True):          # bodies: their own names carry level and place
            for name in (data["name"], data["short_name"]):
                words.setdefault(name, _Name(data["role"], data["level"], node))
        for role, spec in org.roles.items():
            level = None if spec.municipal else "district"   # 街镇 exist only in districts
            names = (spec.name, spec.short_name, *spec.aliases)
            for name in names:
                # 上海市环保局, 市环保局 (beside 环保局): the name itself says municipal; 市场监管局 does not
                city = spec.municipal and (name.startswith("上海") or (name[:1] == "市" and name[1:] in names))
                words.setdefault(name, _Name(role, "municipal" if city else level))
            if spec.district not in ("none", "shared"):
                for template in (spec.district.name, spec.district.short_name):
                    words.setdefault(template.format(区="区", 区简="区"), _Name(role, "district"))
        self._add_aliases(aliases, words)
        self._scanner = Scanner(words.items())
        self._districts = {name: org.jurisdiction_of(name) for name in org.district_choices() if not name.isascii()}
        for code, spec in org.districts.items():
            for former in spec.former_names:
                self._districts.setdefault(former, code)
        self._longest = max((len(n) for n in self._districts), default=0)

    def _add_aliases(self, aliases: Iterable[Located], words: dict):
        written: dict[str, tuple] = {}   # name → (role, where) as first written in an aliases file
        for item in aliases:
            spec = item.spec
            if spec.role not in self.org.roles:
                self.diagnostics.append(Diagnostic("E209", f"叫法 '{spec.name}' 指向未知的职能 '{spec.role}'",
                                                   item.where("role"), suggestion=suggest(spec.role, self.org.roles, "职能代码")))
                continue
            first = written.get(spec.name)
            if first and first[0] != spec.role:
                self._clash(spec, f"{first[0]}（{first[1]}）", item)
                continue
            known = self.org.node_named(spec.name) or None
            role = self.org.node(known)["role"] if known else self.org.role_of(spec.name)
            if role and role != spec.role:
                self._clash(spec, f"{role}（组织数据中的名称）", item)
                continue
            written.setdefault(spec.name, (spec.role, item.where("name")))
            name = _Name(spec.role, spec.level, None, spec.former)
            if words.get(spec.name) == _IGNORE:
                continue
            if spec.level or spec.former or spec.name not in words:
                words[spec.name] = name   # the alias file says more than the org data (派出所: district level)

    def _clash(self, spec, other: str, item: Located):
        self.diagnostics.append(Diagnostic(
            "E362", f"叫法 '{spec.name}' 同时指向 {spec.role} 和 {other}", item.where("name"),
            suggestion="一个叫法只能指一个部门；删去不对的一条，或写出能区分的叫法。"))

    # ---------------------------------------------------------------- reading a title
    def find(self, title: str, jurisdiction: str = MUNICIPAL) -> tuple[Mention, ...]:
        found = []
        for hit in self._scanner.scan(title):
            name = hit.value
            if name == _IGNORE:
                continue
            found.append(self._mention(title, hit.start, hit.word, name, jurisdiction))
        return tuple(found)

    def _mention(self, title: str, start: int, word: str, name: _Name, jurisdiction: str) -> Mention:
        if name.node:
            data = self.org.node(name.node)
            return Mention(word, name.role, name.level, data["jurisdiction"], name.node, name.former)
        before = title[:start]
        level, where, prefix = name.level, None, ""
        district = self._district_before(before)
        if district:
            prefix, where = district
            level = "district"
        elif level is None and before.endswith("市") and not before.endswith(_NOT_CITY):
            level, where, prefix = "municipal", MUNICIPAL, "市"
        elif level is None and before.endswith("区") and not before.endswith(_NOT_DISTRICT):
            level, prefix = "district", "区"
        if where is None:
            if level == "municipal":
                where = MUNICIPAL
            elif level == "district":
                where = jurisdiction if jurisdiction != MUNICIPAL else None
            else:
                where = jurisdiction
        node = self.org.resolve(name.role, where) if where else None
        return Mention(prefix + word, name.role, level, where, node, name.former)

    def _district_before(self, before: str) -> Optional[tuple[str, str]]:
        for size in range(min(self._longest, len(before)), 1, -1):
            code = self._districts.get(before[-size:])
            if code:
                return before[-size:], code
        return None

    @staticmethod
    def fact(mentions: tuple) -> dict:
        """The `named` object rules test: the first department named, the count, and every role named."""
        if not mentions:
            return {}
        first = mentions[0]
        named = {"role": first.role, "former": first.former, "count": len(mentions),
                 "roles": " ".join(dict.fromkeys(m.role for m in mentions))}
        for key, value in (("level", first.level), ("id", first.node), ("jurisdiction", first.jurisdiction)):
            if value is not None:
                named[key] = value
        return {"named": named}


def read_by(rules) -> bool:
    """Does any rule test a `named.*` field or name `$named` as a department? If none does, the resolver leaves
    `named` out of the fact: durable_rules serialises every field of every fact, and an unread object costs it time
    on every matter."""
    def reads(when) -> bool:
        if isinstance(when, dict):
            return any(str(key).startswith("named.") or reads(value) for key, value in when.items())
        if isinstance(when, list):
            return any(reads(item) for item in when)
        return False
    def names(rule) -> bool:
        refs = [rule.lead or "", *(rule.assist or [])]
        return any(str(ref).startswith("$named") for ref in refs)
    return any(reads(rule.when) or names(rule) for rule in rules)
