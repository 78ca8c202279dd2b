"""Where is a matter? Its jurisdiction from the `district` field, else from its title — and how it was found.

One job: `Places.locate(district, title, level)` → `Place(jurisdiction, how, evidence, warnings)`.

`district` may be a district (code / 黄浦区 / 黄浦 / 上海市黄浦区), a former district (闸北 → 静安区, W402),
a 街道 / 镇 or another name of the gazetteer (南翔镇, 南翔, 张江), or a district followed by a 街镇 (金山区漕泾镇).
A 区 + 街镇 that contradict each other (黄浦区南翔镇) are an error: the operator's sheet says two things and
neither is guessed. Without `district` the title is read, longest name first: one district named → that district
(W401); several, or a name shared by two districts (虹桥) that no other word settles → left open, municipal (W403);
nothing → municipal (W404); 全市 / 本市 / 市级 → municipal (W406 if a place is named too).

The gazetteer is rulebook data (`places:` files, spec.PlacesFile) plus the org data's district names and
`former_names`; `Places` is built once per rulebook, validates that data (E208, E360, E361, E363) and is
read-only afterwards.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional

from .errors import Diagnostic, MatterError, suggest
from .model import MatterWarning
from .orggraph import MUNICIPAL, Located, OrgGraph
from .spec import PlaceSpec
from .textscan import Scanner

# how the jurisdiction was found (a code; explain.py words it)
HOW_DISTRICT = "district"            # the district field names a district
HOW_FORMER = "former"                # the district field names a former district
HOW_PLACE = "place"                  # the district field names a 街镇 or another place
HOW_DISTRICT_PLACE = "district_place"  # the district field: 区 + 街镇
HOW_TITLE = "title"                  # read from the title
HOW_CITYWIDE = "citywide"            # the title says 全市 / 本市 / 市级
HOW_LEVEL = "level"                  # level: municipal, no district
HOW_NONE = "none"                    # nothing found: municipal
HOW_OPEN = "open"                    # ambiguous: left open, municipal

W_TITLE = "W401"      # the district was read from the title
W_FORMER = "W402"     # a former district, taken as today's district
W_AMBIGUOUS = "W403"  # a place in two districts, or places in several: left open (municipal)
W_NO_PLACE = "W404"   # no district and no place in the title: municipal
W_PART = "W405"       # 区 + something not in the gazetteer: the district is kept
W_CITYWIDE = "W406"   # the title says 全市 / 市级 and names a place too: municipal

_STREET_TOWN = ("street", "town", "township")
_NO_DISTRICT = ("not_place", "citywide")
_CITY_PREFIXES = ("上海市", "上海")
_FORMER_MARKERS = ("原", "老", "旧")   # tried only when the whole value is unknown (老港镇 is a town of its own)


@dataclass(frozen=True)
class PlaceName:
    """One name of the index: which district it denotes (None: not a place / citywide) and what kind it is."""

    district: Optional[str]
    kind: str            # district | former_district | street | town | township | zone | area | not_place | citywide
    entry: str           # the gazetteer entry it belongs to (南翔 → 南翔镇)


@dataclass(frozen=True)
class Place:
    """Where a matter is, and how that was found."""

    jurisdiction: str                   # `sh` or a district code
    how: str                            # HOW_* code
    evidence: str = ""                  # the words that decided (张江, 南翔镇, 闸北, 全市); empty when none
    warnings: tuple = ()                # MatterWarning, in the order found

    @property
    def level(self) -> str:
        return "municipal" if self.jurisdiction == MUNICIPAL else "district"


class Places:
    """The gazetteer of one rulebook: built once, read-only afterwards (safe to share between threads)."""

    def __init__(self, org: OrgGraph, entries: Iterable[Located] = ()):
        self.org = org
        self.diagnostics: list[Diagnostic] = []
        names: dict[str, list[PlaceName]] = {}
        self._district_names: dict[str, str] = {}   # 黄浦区 / 黄浦 / huangpu / 上海市黄浦区 → huangpu
        for alias in org.district_choices():
            code = org.jurisdiction_of(alias)
            self._district_names[alias] = code
            if not alias.isascii():
                names.setdefault(alias, []).append(PlaceName(code, "district", alias))
        for code, spec in org.districts.items():
            for former in spec.former_names:  # full names only: a bare 南市 would be read inside 济南市
                names.setdefault(former, []).append(PlaceName(code, "former_district", former))
        self._add_entries(entries, names)
        for word in names:  # a name written twice for the same district and kind counts once
            names[word] = list(dict.fromkeys(names[word]))
        self._scanner: Scanner = Scanner((word, tuple(found)) for word, found in names.items())
        self._prefixes = sorted({*self._district_names, *(n for n, found in names.items()
                                                          if any(p.kind == "former_district" for p in found))},
                                key=len, reverse=True)

    # ---------------------------------------------------------------- building and checking
    def _error(self, code, message, where, suggestion=None):
        self.diagnostics.append(Diagnostic(code, message, where, suggestion=suggestion))

    def _add_entries(self, entries: Iterable[Located], names: dict):
        street_towns: dict[str, tuple[str, object]] = {}   # full name of a 街镇 → (district, where first written)
        districts = list(self.org.districts)
        for item in entries:
            spec: PlaceSpec = item.spec
            if spec.kind in _NO_DISTRICT:
                if spec.district is not None:
                    self._error("E363", f"地名 '{spec.name}' 的类别为 {spec.kind}，不应写 district", item.where("district"),
                                "not_place（非地名）与 citywide（全市性用语）不属于任何区；删除 district。")
                    continue
            elif spec.district is None:
                self._error("E363", f"地名 '{spec.name}' 缺少所属区 district", item.where("name"),
                            "写出区代码，如 district: jiading。")
                continue
            elif spec.district not in self.org.districts:
                self._error("E208", f"地名 '{spec.name}' 的所属区 '{spec.district}' 不是区代码", item.where("district"),
                            suggest(spec.district, districts, "区代码"))
                continue
            if spec.kind in _STREET_TOWN:
                first = street_towns.get(spec.name)
                if first and first[0] != spec.district:
                    self._error("E360", f"街镇 '{spec.name}' 同时写在 {first[0]} 和 {spec.district} 两个区下"
                                        f"（第一次在 {first[1]}）", item.where("district"),
                                "街镇全称在全市唯一；核对统计用区划代码，删去错的一条。")
                    continue
                street_towns.setdefault(spec.name, (spec.district, item.where("name")))
            written = [(spec.name, item.where("name", key=False)),
                       *((a, item.where("aliases", i, key=False)) for i, a in enumerate(spec.aliases))]
            for word, where in written:
                if self._shadows(word, spec, where):
                    continue  # reported; the district's own name keeps its meaning
                names.setdefault(word, []).append(PlaceName(spec.district, spec.kind, spec.name))

    def _shadows(self, word: str, spec: PlaceSpec, where) -> bool:
        code = self.org.jurisdiction_of(word)
        merged = self.org.merged_into(word)
        if code is None and (merged is None or (spec.kind == "former_district" and merged == spec.district)):
            return False
        what = f"区名（{self.org.districts[code].name}）" if code else f"旧区名（现属{self.org.districts[merged].name}）"
        self._error("E361", f"地名 '{word}'（{spec.name}）与{what}相同：会遮盖区名", where,
                    "区名由组织数据识别，不必写进地名表；若是另一处地方，写出能区分的全称。")
        return True

    # ---------------------------------------------------------------- reading a matter
    def locate(self, district: Optional[str], title: str, level: Optional[str] = None) -> Place:
        """The matter's jurisdiction and how it was found. Raises MatterError for a district that is unknown or
        contradicts itself or the level."""
        if district is not None:
            place = self._from_field(district, title)
            if level == "municipal" and place.jurisdiction != MUNICIPAL:
                raise MatterError(f"level 为 municipal，却给出了所属区 '{district}'（两者矛盾）", "level")
            if level == "district" and place.jurisdiction == MUNICIPAL:
                raise MatterError(f"level 为 district，但所属区 '{district}' 无法确定是哪个区："
                                  f"{place.warnings[0].message if place.warnings else ''}", "district")
            return place
        if level == "municipal":
            return Place(MUNICIPAL, HOW_LEVEL)
        place = self._from_title(title)
        if level == "district" and place.jurisdiction == MUNICIPAL:
            detail = f"：{place.warnings[0].message}" if place.how == HOW_OPEN and place.warnings else ""
            raise MatterError(f"level 为 district 却没有给出所属区{detail}", "district")
        return place

    def _from_field(self, value: str, title: str) -> Place:
        text = "".join(value.split())
        code = self._district_names.get(text)
        if code:
            return Place(code, HOW_DISTRICT, text)
        whole = self._place(text, title, value, HOW_PLACE) or self._place(" ".join(value.split()), title, value, HOW_PLACE)
        if whole is not None:  # the second form keeps the spaces of a Latin name: "Pudong New Area"
            return whole
        bare = next((text[len(p):] for p in _CITY_PREFIXES if text.startswith(p) and len(text) > len(p)), text)
        if bare != text:
            found = self._district_names.get(bare) or None
            if found:
                return Place(found, HOW_DISTRICT, bare)
            whole = self._place(bare, title, value, HOW_PLACE)
            if whole is not None:
                return whole
        merged = self.org.merged_into(bare)  # the org data's former names, short forms included (闸北)
        if merged:
            return Place(merged, HOW_FORMER, bare, (self._former(value, merged),))
        for prefix in self._prefixes:
            if bare.startswith(prefix) and len(bare) > len(prefix):
                return self._district_and_place(prefix, bare[len(prefix):], value)
        if bare[:1] in _FORMER_MARKERS and len(bare) > 2:   # 原南汇县、老闸北：a former name said as such
            return self._from_field(bare[1:], title)
        raise MatterError(f"未知的区 '{value}'。{suggest(value, self.org.district_choices(), '区')}", "district")

    def _place(self, text: str, title: str, value: str, how: str) -> Optional[Place]:
        """A name of the gazetteer written alone in the district field, or None."""
        found = self._scanner.get(text)
        if not found:
            return None
        found = [p for p in found if p.kind != "not_place"]
        if not found:
            return None
        if any(p.kind == "citywide" for p in found):
            return Place(MUNICIPAL, HOW_CITYWIDE, text)
        districts = list(dict.fromkeys(p.district for p in found))
        if len(districts) > 1:  # 虹桥: let the title's other words decide, else leave it open
            named = {d for d in self._title_districts(title) if d in districts}
            if len(named) == 1:
                code = named.pop()
                return Place(code, how, text, (self._warning(
                    W_AMBIGUOUS, f"所属区“{value}”可能是{self._names(districts)}，据标题按{self._name(code)}处理，请核对"),))
            return Place(MUNICIPAL, HOW_OPEN, text, (self._warning(
                W_AMBIGUOUS, f"所属区“{value}”可能是{self._names(districts)}，无法判断，暂按市级处理；请填写区名"),))
        code, first = districts[0], found[0]
        if first.kind == "former_district":
            return Place(code, HOW_FORMER, text, (self._former(value, code),))
        return Place(code, how, text)

    def _district_and_place(self, prefix: str, rest: str, value: str) -> Place:
        """金山区漕泾镇: the district, checked against the 街镇 that follows it."""
        code = self._district_names.get(prefix)
        warnings = []
        how = HOW_DISTRICT_PLACE
        if code is None:  # a former district in front: 南汇区周浦镇
            code = next(p.district for p in self._scanner.get(prefix) if p.kind == "former_district")
            warnings.append(self._former(prefix, code))
            how = HOW_FORMER
        found = [p for p in self._scanner.get(rest) or () if p.kind not in _NO_DISTRICT]
        if not found:
            warnings.append(self._warning(W_PART, f"所属区“{value}”中的“{rest}”不在地名表中，按{self._name(code)}处理"))
            return Place(code, how, prefix, tuple(warnings))
        districts = list(dict.fromkeys(p.district for p in found))
        if code not in districts:
            raise MatterError(f"所属区“{value}”自相矛盾：{rest}属于{self._names(districts)}，不属于{self._name(code)}。"
                              "请核对后只写一个区（或写对的区 + 街镇）", "district")
        return Place(code, how, prefix + rest, tuple(warnings))

    def _title_districts(self, title: str) -> list[str]:
        return [p.district for hit in self._scanner.scan(title) for p in hit.value
                if p.kind not in _NO_DISTRICT and len({q.district for q in hit.value}) == 1]

    def _from_title(self, title: str) -> Place:
        citywide, hits = None, []
        for hit in self._scanner.scan(title):
            kinds = {p.kind for p in hit.value}
            if "citywide" in kinds:
                citywide = citywide or hit.word
            elif kinds - {"not_place"}:
                hits.append(hit)
        if citywide:
            if not hits:
                return Place(MUNICIPAL, HOW_CITYWIDE, citywide)
            first = hits[0]
            return Place(MUNICIPAL, HOW_CITYWIDE, citywide, (self._warning(
                W_CITYWIDE, f"标题有“{citywide}”，按市级处理；标题中的“{first.word}”属{self._names(self._districts(first))}，"
                            "如属区级事项请填写所属区"),))
        if not hits:
            return Place(MUNICIPAL, HOW_NONE, "", (self._warning(
                W_NO_PLACE, "未填所属区，标题中也没有可识别的地点，按市级处理；如属区级事项请填写所属区"),))
        definite = {}   # district → first word that names only it
        shared = []     # words that name several districts
        for hit in hits:
            districts = self._districts(hit)
            if len(districts) == 1:
                definite.setdefault(districts[0], hit)
            else:
                shared.append(hit)
        candidates = list(definite)
        if not candidates:
            common = set(self._districts(shared[0]))
            for hit in shared[1:]:
                common &= set(self._districts(hit))
            candidates = [d for d in self._districts(shared[0]) if d in common]
        if len(candidates) != 1:
            if definite:
                named = "、".join(f"“{hit.word}”（{self._name(d)}）" for d, hit in definite.items())
                text = f"标题提到几个区的地点：{named}，不作猜测，暂按市级处理；如属某区事项请填写所属区"
            else:
                text = (f"标题中的“{shared[0].word}”可能是{self._names(self._districts(shared[0]))}，无法判断，"
                        "暂按市级处理；请填写所属区")
            return Place(MUNICIPAL, HOW_OPEN, "、".join(h.word for h in hits), (self._warning(W_AMBIGUOUS, text),))
        code = candidates[0]
        hit = definite.get(code) or shared[0]
        warnings = [self._warning(W_TITLE, f"未填所属区，按标题中的“{hit.word}”判断为{self._name(code)}，请核对")]
        if any(p.kind == "former_district" for p in hit.value):
            warnings.append(self._former(hit.word, code))
        return Place(code, HOW_TITLE, hit.word, tuple(warnings))

    # ---------------------------------------------------------------- helpers
    @staticmethod
    def _districts(hit) -> list[str]:
        return list(dict.fromkeys(p.district for p in hit.value if p.district))

    def _name(self, code: str) -> str:
        return self.org.districts[code].name

    def _names(self, codes) -> str:
        return "或".join(self._name(c) for c in codes)

    def _former(self, word: str, code: str) -> MatterWarning:
        return self._warning(W_FORMER, f"“{word}”是已撤并的旧区县名，现属{self._name(code)}，已按{self._name(code)}处理")

    @staticmethod
    def _warning(code: str, message: str) -> MatterWarning:
        return MatterWarning.model_construct(code=code, message=message)
