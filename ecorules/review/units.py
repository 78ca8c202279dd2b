"""The units a draft names for a task: finding the clause, reading who leads, mapping names to the org graph.

A clause is what a draft writes after a task: `（责任单位：市生态环境局、各区政府）`, `（市交通委牵头，市公安局配合）`,
`牵头单位：X；配合单位：Y`, or the cells of 牵头单位 / 配合单位 / 责任单位 columns. Names are mapped to departments
through the rulebook's org graph (read-only: `node_named`, `role_of`, `resolve`); a name the graph does not know is
kept as written and flagged, never guessed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

from ..model import Department
from ..orggraph import MUNICIPAL, OrgGraph

LEAD_LABELS = ("牵头单位", "牵头部门", "主责单位", "主责部门", "主办单位", "牵头")
ASSIST_LABELS = ("配合单位", "配合部门", "协办单位", "协同单位", "参与单位", "配合")
UNIT_LABELS = ("责任单位", "责任部门", "实施单位", "责任主体", "主体单位")
_LABEL = "|".join(sorted(LEAD_LABELS + ASSIST_LABELS + UNIT_LABELS, key=len, reverse=True))
_OPEN, _CLOSE = re.escape("（(【["), re.escape("）)】]")
# `（责任单位：…）` anywhere in a task's text
LABELLED_BRACKET = re.compile(rf"[{_OPEN}]\s*((?:{_LABEL})\s*[：:][^{_OPEN}{_CLOSE}]*)[{_CLOSE}]")
# `责任单位：…` to the end of a paragraph (no bracket)
LABELLED_TAIL = re.compile(rf"(?<![{_OPEN}])((?:{_LABEL})\s*[：:].*)$")
# a bare parenthesis closing a paragraph: `（市生态环境局、各区政府）` — a unit list only if its names say so
BARE_TAIL = re.compile(rf"[{_OPEN}]([^{_OPEN}{_CLOSE}]{{2,240}})[{_CLOSE}]\s*[。；;.，,]?\s*$")
# a paragraph that is nothing but a unit clause (the line after a task)
UNIT_LINE = re.compile(rf"^[{_OPEN}]?\s*((?:{_LABEL})\s*[：:].*?)[{_CLOSE}]?\s*[。；;]?$")

_SPLIT = re.compile(r"[、，,；;/／\s]+|以及|及(?=[各市区有相])")
_ASSIST_TAIL = re.compile(r"(配合|参与|协同|协助|协办|按职责分工负责|按职责分工落实|按职责负责|分工负责|共同推进|共同负责|"
                          r"按职责推进|等部门配合|落实)$")
_NOT_A_NAME = re.compile(r"^(含|包括|如|即|以下|不含|简称|其中|例如|全市|到\d|\d)")
_ORG_SUFFIX = re.compile(r"(局|委|办|政府|中心|院|部|署|会|街镇|街道|乡镇|镇|公司|集团|各区|单位|部门|分局|支队|总队|小组|海关)$")
_VAGUE = re.compile(r"^(各|其他)?(有关|相关|相应)?(部门|单位|方面|责任单位|职能部门|委办局)(等)?$|^各(有关|相关)")
# what else a clause may carry: `完成时限：2025年底`, `2026年底前完成`, `持续推进`
_OTHER_LABEL = re.compile(r"(完成时限|完成时间|时间节点|时限|进度安排|进度要求|完成期限)\s*[：:]")
_TIME = re.compile(r"\d{4}\s*年|年底|年内|月底|前完成|持续推进|长期坚持|长期|持续")
# `X（牵头）` inside a list of units
_LEAD_MARKER = re.compile(r"\s*[（(]\s*(?:牵头|牵头单位|牵头部门|主责)\s*[）)]")
LEAD_MARK = "※"
# the draft's own statement of how its lists are ordered
NO_ORDER = re.compile(r"排名不分先后|排序不分先后|不分先后")

Scope = Literal["body", "each_district", "absent", "vague", "unknown"]


class UnitRef(BaseModel):
    """One unit as the draft names it, and what it denotes in the org graph."""

    model_config = ConfigDict(frozen=True)

    text: str = Field(description="as written in the draft / 草案原文")
    scope: Scope = Field(description="body: one department; each_district: a class (各区政府, 各区生态环境局); "
                                     "absent: a role the jurisdiction has no body for; vague: 有关部门; "
                                     "unknown: not in the org graph")
    role: Optional[str] = None
    department: Optional[Department] = None

    @property
    def label(self) -> str:
        if self.department is not None:
            return self.department.short_name
        if self.scope == "each_district":
            return self.text if self.text.startswith("各") else "各" + self.text
        return self.text


@dataclass
class Clause:
    """What a draft says about one task's units: the raw text, and the names sorted into lead / assist."""

    text: str
    leads: list[str] = field(default_factory=list)
    assists: list[str] = field(default_factory=list)
    listed: list[str] = field(default_factory=list)   # 责任单位 without saying who leads

    def merge(self, other: "Clause") -> "Clause":
        return Clause("；".join(t for t in (self.text, other.text) if t), self.leads + other.leads,
                      self.assists + other.assists, self.listed + other.listed)


def split_names(text: str) -> list[str]:
    names = []
    for piece in _SPLIT.split(text):
        piece = piece.strip("。.：: \u3000")
        piece = re.sub(r"[（(][^（）()]*[）)]$", "", piece) if not piece.endswith(LEAD_MARK) else piece
        piece = re.sub(r"等$", "", piece)
        if piece and piece not in names:
            names.append(piece)
    return names


def parse_clause(text: str) -> Clause:
    """`牵头单位：X；配合单位：Y、Z` / `X牵头，Y、Z配合` / `X（牵头）、Y` / `X、Y、Z` → a Clause (who leads is decided
    later, by lead_and_assist)."""
    text = mark_leads(text)
    clause = Clause(text.strip().replace(LEAD_MARK, "（牵头）"))
    text = _OTHER_LABEL.split(text, maxsplit=1)[0]
    marked = [n.rstrip(LEAD_MARK) for n in split_names(text) if n.endswith(LEAD_MARK)]
    text = text.replace(LEAD_MARK, "")
    clause.leads.extend(marked)
    for segment in re.split(r"[；;]", text):
        segment = segment.strip()
        if not segment:
            continue
        label = re.match(rf"^({_LABEL})\s*[：:]\s*(.*)$", segment)
        if label:
            target = (clause.leads if label.group(1) in LEAD_LABELS else
                      clause.assists if label.group(1) in ASSIST_LABELS else None)
            if target is not None:
                target.extend(split_names(label.group(2)))
                continue
            segment = label.group(2)
        for part in re.split(r"[，,]", segment):
            part = part.strip()
            if not part or (_TIME.search(part) and not _ORG_SUFFIX.search(part)):
                continue
            if part.endswith("牵头"):
                clause.leads.extend(split_names(part[:-2]))
            elif _ASSIST_TAIL.search(part):
                clause.assists.extend(split_names(_ASSIST_TAIL.sub("", part)))
            else:
                clause.listed.extend(split_names(part))
    if marked:   # X（牵头） among 责任单位: the others assist
        clause.leads = list(dict.fromkeys(clause.leads))
        clause.listed = [n for n in clause.listed if n not in clause.leads]
    return clause


def mark_leads(text: str) -> str:
    """`市生态环境局（牵头）` → `市生态环境局※`, so the marker survives bracket matching and splitting."""
    return _LEAD_MARKER.sub(LEAD_MARK, text)


def lead_and_assist(clause: Clause, first_is_lead: bool) -> tuple[list[str], list[str], str]:
    """(leads, assists, how the lead was stated: explicit | first_listed | none)."""
    if clause.leads:
        return clause.leads, [n for n in clause.listed + clause.assists if n not in clause.leads], "explicit"
    if clause.listed and first_is_lead:
        return clause.listed[:1], clause.listed[1:] + clause.assists, "first_listed"
    return [], clause.listed + clause.assists, "none"


def find_clauses(text: str, is_unit: Callable[[str], bool]) -> tuple[str, list[Clause]]:
    """(the task's text without its unit clauses, the clauses found in it)."""
    text = mark_leads(text)
    clauses = [parse_clause(m.group(1)) for m in LABELLED_BRACKET.finditer(text)]
    text = LABELLED_BRACKET.sub("", text).strip()
    tail = LABELLED_TAIL.search(text)
    if tail:
        clauses.append(parse_clause(tail.group(1)))
        text = text[:tail.start()].rstrip("，,；; ")
    bare = BARE_TAIL.search(text)
    if bare and looks_like_units(bare.group(1), is_unit):
        clauses.append(parse_clause(bare.group(1)))
        stop = "。" if text.rstrip().endswith("。") else ""
        text = text[:bare.start()].rstrip("，,；; ") + stop
    return text.replace(LEAD_MARK, "（牵头）").strip(), clauses


def looks_like_units(inner: str, is_unit: Callable[[str], bool]) -> bool:
    """A bare parenthesis is a unit list when it says who leads (`X牵头`), or when its names end like bodies and at
    least one is a known unit."""
    clause = parse_clause(inner)
    names = clause.leads + clause.assists + clause.listed
    if not names or any(_NOT_A_NAME.search(n) or len(n) > 30 for n in names):
        return False
    if clause.leads and all(_ORG_SUFFIX.search(n) for n in clause.leads):   # `（X牵头，Y配合）` says so itself
        return True
    if not all(_ORG_SUFFIX.search(n) or is_unit(n) for n in names):
        return False
    return any(is_unit(n) for n in names)


class UnitMapper:
    """Unit names → UnitRef in one jurisdiction (`sh` for a municipal draft, a district code otherwise)."""

    def __init__(self, org: OrgGraph, jurisdiction: str):
        self.org = org
        self.jurisdiction = jurisdiction
        self._districts = sorted(((alias, code) for code, spec in org.districts.items()
                                  for alias in (spec.name, "上海市" + spec.name, spec.short_name)),
                                 key=lambda pair: -len(pair[0]))
        self._cache: dict[str, UnitRef] = {}

    def is_unit(self, text: str) -> bool:
        return self.map(text).scope not in ("unknown", "vague")

    def map(self, text: str) -> UnitRef:
        if text not in self._cache:
            self._cache[text] = self._map(text)
        return self._cache[text]

    def _map(self, text: str) -> UnitRef:
        name = re.sub(r"\s+", "", text).strip("“”\"'")
        if _VAGUE.search(name):
            return UnitRef(text=text, scope="vague")
        each = name.startswith("各") and len(name) > 1
        if each:
            name = name[1:]
        if name in ("区", "区政府", "区人民政府"):
            return self._role(text, "gov", None if self.jurisdiction == MUNICIPAL else self.jurisdiction)
        node = self.org.node_named(name) or self.org.node_named("上海市" + name)
        if node:
            return UnitRef(text=text, scope="body", role=self.org.node(node)["role"],
                           department=self.org.department(node))
        for prefix in ("上海市", "市"):
            if name.startswith(prefix):
                role = self.org.role_of(name) or self.org.role_of(name[len(prefix):])
                if role:
                    return self._role(text, role, MUNICIPAL)
        for alias, code in self._districts:
            if name.startswith(alias) and len(name) > len(alias):
                rest = name[len(alias):]
                role = self.org.role_of(rest) or self.org.role_of("区" + rest)
                if role:
                    return self._role(text, role, code)
        role = self.org.role_of(name)
        if role is None and name.startswith("区"):
            role = self.org.role_of(name[1:])
        if role is None and name in ("街道", "镇", "街道和镇", "街道、镇"):
            role = "jiezhen"
        if role is None:
            return UnitRef(text=text, scope="unknown")
        district_named = name.startswith("区") or each or role == "jiezhen"
        if self.jurisdiction == MUNICIPAL and district_named:
            return self._role(text, role, None)
        return self._role(text, role, self.jurisdiction)

    def _role(self, text: str, role: str, jurisdiction: Optional[str]) -> UnitRef:
        """A role in one jurisdiction (None: in every district, a class such as 各区政府)."""
        if jurisdiction is None:
            return UnitRef(text=text, scope="each_district", role=role)
        node = self.org.resolve(role, jurisdiction)
        if node is None:
            return UnitRef(text=text, scope="absent", role=role)
        return UnitRef(text=text, scope="body", role=role, department=self.org.department(node))
