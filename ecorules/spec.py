"""The schema of rulebook files, as pydantic models (validation and `ecorules schema rulebook`).

Descriptions are in Chinese first: they are what legal staff see in an editor's completion.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator

Scalar = Union[bool, int, float, str]
RULE_ID = r"^[a-z0-9][a-z0-9_.\-]*$"
ROLE = r"^[a-z][a-z0-9_]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def _as_list(value):
    """Let authors write one item where a list is expected."""
    if value is None:
        return []
    if isinstance(value, (str, dict)):
        return [value]
    return value


class Effective(_Strict):
    from_: Optional[dt.date] = Field(None, alias="from", description="生效日期（含当日）")
    until: Optional[dt.date] = Field(None, description="失效日期（含当日）")


class EscalateSpec(_Strict):
    to: list[str] = Field(min_length=1, description="上报对象（部门引用，如 party、gov）")
    proposer: Optional[str] = Field(None, description="提出意见的部门，如 sthj（市生态环境局）")
    with_: list[str] = Field(default_factory=list, alias="with", description="会同的部门，如 $candidates")
    steps: list[str] = Field(default_factory=list, description="办理步骤（中文）")

    _lists = field_validator("to", "with_", mode="before")(_as_list)


class TransferSpec(_Strict):
    to: str = Field(description="移交对象（部门引用）")
    reason: str = Field(min_length=1, description="移交理由（中文）")


class ObligationSpec(_Strict):
    what: str = Field(min_length=1, description="义务内容（中文）")
    due: Optional[str] = Field(None, description="期限：文字，ISO 日期，或 annual:MM-DD / annual:MM-end（每年）")
    to: list[str] = Field(default_factory=list, description="报送对象（部门引用）")
    copy_: list[str] = Field(default_factory=list, alias="copy", description="抄送对象（部门引用）")

    _lists = field_validator("to", "copy_", mode="before")(_as_list)


class RuleSpec(_Strict):
    id: str = Field(pattern=RULE_ID, description="规则编号，全规则库唯一，如 air.construction-dust")
    title: str = Field(min_length=1, description="规则标题（中文）")
    cite: str = Field(min_length=1, description="依据条款，如 第九十八条；实施意见（五）")
    source: Optional[str] = Field(None, description="依据文件名，覆盖文件级 source")
    provenance: Optional[Literal["source", "partial", "inference", "disputed"]] = Field(
        None, description="来源可靠性：source 有明文 / partial 部分有明文 / inference 推断 / disputed 有争议")
    note: Optional[str] = Field(None, description="说明（争议、推断之处）")
    when: Optional[dict[str, Any]] = Field(None, description="条件：字段 → 判断；缺省表示总是适用")
    priority: int = Field(50, ge=0, le=1000, description="优先级：法律法规 90 > 责任清单 70 > 审批 50 > 行业 30 > 兜底 10")
    effective: Optional[Effective] = Field(None, description="生效期间 {from, until}")
    overrides: list[str] = Field(default_factory=list, description="本规则作为例外所覆盖的规则编号")
    disputes: list[str] = Field(default_factory=list,
                                description="与这些规则同时适用时的冲突是有意的（依据不一，须上报决定），check 不再警告")
    lead: Optional[str] = Field(None, description="牵头部门（assign 阶段）")
    assist: list[str] = Field(default_factory=list, description="配合部门（assign 阶段）")
    set: Optional[dict[str, Scalar]] = Field(None, description="推导的字段（classify 阶段），如 {category: catering_fumes}")
    escalate: Optional[EscalateSpec] = Field(None, description="上报（route 阶段）")
    transfer: list[TransferSpec] = Field(default_factory=list, description="移交（route 阶段）")
    obligation: list[ObligationSpec] = Field(default_factory=list, description="义务（route 阶段）")
    status: Optional[Literal["resolved", "conflict", "unassigned"]] = Field(None, description="改变状态（route 阶段）")

    _lists = field_validator("overrides", "disputes", "assist", "transfer", "obligation", mode="before")(_as_list)


class RuleFile(_Strict):
    stage: Literal["classify", "assign", "route"] = Field(description="阶段：classify 分类 → assign 定牵头 → route 上报/移交/义务")
    source: Optional[str] = Field(None, description="本文件规则的默认依据文件名")
    rules: list[RuleSpec] = Field(description="规则列表")


class NameTemplate(_Strict):
    name: str = Field(description="区级对应部门全称模板，{区} 为区名（如 黄浦区），{区简} 为简称")
    short_name: str = Field(description="区级对应部门简称模板")


class DepartmentSpec(_Strict):
    role: str = Field(pattern=ROLE, description="职能代码，如 sthj")
    name: str = Field(description="市级机构全称")
    short_name: str = Field(description="市级机构简称")
    name_en: Optional[str] = None
    kind: Literal["party_committee", "government", "functional_department", "police", "court", "procuratorate",
                  "discipline_inspection", "audit", "coordination_body", "platform", "central_agency",
                  "sub_district"]
    enforcement: Literal["yes", "no", "limited"] = Field(description="是否有行政执法（处罚）权")
    aliases: list[str] = Field(default_factory=list, description="别名（常用叫法）")
    functions: list[str] = Field(default_factory=list, description="主管的事项类别（说明用）")
    district: Union[Literal["none", "shared"], NameTemplate] = Field(
        description="区级对应：名称模板；none 无区级对应；shared 市级机构兼管各区")
    municipal: bool = Field(True, description="是否有市级机构（街镇为 false）")
    confidence: Optional[Literal["source", "inference"]] = None
    basis: Optional[str] = None


class DistrictSpec(_Strict):
    code: str = Field(pattern=ROLE, description="区代码，如 huangpu")
    name: str
    short_name: str
    name_en: Optional[str] = None
    type: Optional[str] = None
    held_by: dict[str, str] = Field(default_factory=dict, description="职能 → 本区承担该职能的部门职能代码")
    absent: list[str] = Field(default_factory=list, description="本区没有、也无人承担的职能")
    names: dict[str, NameTemplate] = Field(default_factory=dict, description="本区与模板不同的部门名称")
    confidence: Optional[Literal["source", "inference"]] = None
    basis: Optional[str] = None


class OrgFile(_Strict):
    departments: list[DepartmentSpec] = Field(default_factory=list)
    districts: list[DistrictSpec] = Field(default_factory=list)


class CategorySpec(_Strict):
    id: str = Field(pattern=ROLE, description="事项类别编号")
    name: str = Field(description="事项类别名称（中文）")
    sector: Optional[str] = None
    provenance: Optional[Literal["source", "partial", "inference", "disputed"]] = None
    note: Optional[str] = None


class CategoriesFile(_Strict):
    categories: list[CategorySpec]


class ExpectedEscalation(_Strict):
    to: list[str] = Field(default_factory=list)
    proposer: Optional[str] = None

    _lists = field_validator("to", mode="before")(_as_list)


class Expectation(_Strict):
    status: Optional[Literal["resolved", "conflict", "unassigned", "invalid"]] = None
    lead: Optional[str] = Field(None, description="期望牵头部门（引用）")
    assist: Optional[list[str]] = Field(None, description="期望配合部门（完整集合）")
    assist_includes: list[str] = Field(default_factory=list, description="期望至少包含的配合部门")
    candidates: Optional[list[str]] = None
    category: Optional[str] = None
    escalation: Optional[ExpectedEscalation] = Field(None, description="期望上报；写 null 表示不上报")
    transfers: Optional[list[str]] = None
    obligations: Optional[list[str]] = None


class RuleTestSpec(_Strict):
    name: str = Field(min_length=1, description="测试名称（中文）")
    matter: dict[str, Any] = Field(description="事项")
    expect: Expectation


class RuleTestFile(_Strict):
    tests: list[RuleTestSpec]


class RulebookMeta(_Strict):
    name: str
    version: str
    policy: Optional[str] = None
    description: Optional[str] = None


class MetaFile(_Strict):
    rulebook: RulebookMeta


# top-level key → the model of that kind of file (the first matching key decides)
FILE_KINDS: dict[str, type[BaseModel]] = {
    "rulebook": MetaFile,
    "rules": RuleFile,
    "departments": OrgFile,
    "districts": OrgFile,
    "categories": CategoriesFile,
    "tests": RuleTestFile,
}
