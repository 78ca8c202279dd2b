"""The public data types: what goes in (Matter) and what comes out (Resolution). No I/O here."""
from __future__ import annotations

import datetime as dt
from typing import Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator

FactValue = Union[bool, int, float, str, None]
Status = Literal["resolved", "conflict", "unassigned", "out_of_scope", "invalid"]
Level = Literal["municipal", "district"]
# what became of a rule that fired (recorded as a code; explain.py renders it in Chinese or English)
Outcome = Literal["adopted", "overridden", "lower_priority", "tied", "absent", "ambiguous", "superseded", "outranked"]
Provenance = Literal["source", "partial", "inference", "disputed"]


class Matter(BaseModel):
    """One item to resolve: a task, a complaint ticket, a case clue, a policy task."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    id: str = Field(description="unique within a batch / 批内唯一编号")
    title: str = Field(min_length=1, description="Chinese free text: ticket summary or task name / 事项标题")
    district: Optional[str] = Field(None, description="district code or Chinese name, a former district (闸北), a 街道/镇 "
                                                      "(南翔镇) or both (金山区漕泾镇); absent → read from the title, "
                                                      "else municipal with a warning / 所属区")
    level: Optional[Level] = Field(None, description="municipal | district; derived from district when absent")
    category: Optional[str] = Field(None, description="matter category id; derived by classify rules when absent")
    approved_by: Optional[str] = Field(None, description="department that approved the activity (谁审批谁负责)")
    source: Optional[str] = Field(None, description="12345, 一网统管, 督察, policy, inspection, …")
    as_of: Optional[dt.date] = Field(None, description="ISO date; rules not in force on that date are ignored")
    facts: dict[str, FactValue] = Field(default_factory=dict, description="free facts for rules")

    @field_validator("id", mode="before")
    @classmethod
    def _id_as_text(cls, value):
        # ids often arrive as numbers from spreadsheets; keep them as text, never as floats
        if isinstance(value, bool):
            raise ValueError("id must be text or an integer")
        if isinstance(value, int):
            return str(value)
        return value

    @field_validator("district", "category", "approved_by", "source", "level", mode="before")
    @classmethod
    def _blank_is_absent(cls, value):
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("as_of", mode="before")
    @classmethod
    def _blank_date_is_absent(cls, value):
        if isinstance(value, str) and not value.strip():
            return None
        if isinstance(value, dt.datetime):
            return value.date()
        return value


class Department(BaseModel):
    """A node of the org graph, as shown in results."""

    model_config = ConfigDict(frozen=True)

    id: str
    role: str
    jurisdiction: str
    name: str
    short_name: str
    inferred: bool = Field(False, description="the body's existence or name is an inference from the org data, "
                                               "not a verified fact / 机构名称或设置系推定，须核实")


class Hop(BaseModel):
    """One edge of the department graph that a reference followed (drawn by the workbench)."""

    model_config = ConfigDict(frozen=True)

    source: Optional[str] = Field(description="the body the edge starts from (null: the matter's own jurisdiction)")
    type: Literal["reports_to", "guides", "holds_function_of", "transfers_to", "same_level", "in_jurisdiction"] = Field(
        description="edge type: reports_to 向同级党委政府负责, guides 上级主管部门指导, holds_function_of 承担该职能, "
                    "transfers_to 移送（行刑衔接）, same_level 同级对应部门, in_jurisdiction 事项所在辖区")
    target: str


class Escalation(BaseModel):
    to: list[Department]
    proposer: Optional[Department] = None
    consult: list[Department] = Field(default_factory=list, description="departments the proposer works with (会同)")
    steps: list[str] = Field(default_factory=list)
    path: list[Hop] = Field(default_factory=list, description="the graph edges that led to `to` / 经由的部门关系")
    cite: str
    rule: str


class Transfer(BaseModel):
    model_config = ConfigDict(frozen=True)

    to: Department
    reason: str
    cite: str
    rule: str


class Obligation(BaseModel):
    what: str
    due: Optional[str] = None
    to: list[Department] = Field(default_factory=list)
    copy_to: list[Department] = Field(default_factory=list)
    cite: str
    rule: str


class Basis(BaseModel):
    """A rule that fired, where it is written and what it cites."""

    model_config = ConfigDict(frozen=True)

    rule: str
    stage: Literal["classify", "assign", "route"]
    file: str
    line: int
    cite: str
    provenance: Optional[Provenance] = None
    outcome: Outcome = Field(description="what became of it (a code; explain renders it): adopted 采用, overridden "
                                         "被例外规则覆盖, lower_priority 优先级较低, tied 同级冲突, absent 本辖区无对应部门, "
                                         "ambiguous 分类有歧义, superseded 输入已给出, outranked 本辖区公布的"
                                         "责任清单优先（清单层）")


class MatterWarning(BaseModel):
    """Something the reader should check: how a place was inferred, a former district name, no place found, …"""

    model_config = ConfigDict(frozen=True)

    code: str = Field(description="stable code, e.g. W401 / 稳定代码")
    message: str = Field(description="Chinese text for operators / 中文说明")


class RulebookStamp(BaseModel):
    name: str
    version: str
    hash: str = Field(description="sha256 over every file of the rulebook, in path order")


class ErrorInfo(BaseModel):
    message: str
    field: Optional[str] = None
    row: Optional[int] = Field(None, description="1-based row of the input file (JSONL: line; CSV/XLSX: sheet row, "
                                                 "header = 1); set by batch readers, null from Engine.resolve")


class Resolution(BaseModel):
    """The answer for one matter."""

    id: Optional[str] = Field(None, description="the matter's id (absent only for an invalid row without one)")
    status: Status
    lead: Optional[Department] = None
    assist: list[Department] = Field(default_factory=list)
    candidates: list[Department] = Field(default_factory=list)
    category: Optional[str] = None
    level: Optional[Level] = None
    jurisdiction: Optional[str] = None
    escalation: Optional[Escalation] = None
    transfers: list[Transfer] = Field(default_factory=list)
    obligations: list[Obligation] = Field(default_factory=list)
    basis: list[Basis] = Field(default_factory=list)
    explanation: str = ""
    error: Optional[ErrorInfo] = None
    warnings: list[MatterWarning] = Field(default_factory=list, description="what the reader should check / 提示")
    as_of: Optional[dt.date] = None
    rulebook: RulebookStamp
