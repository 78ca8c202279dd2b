"""The schema of rulebook files, as pydantic models (validation and `ecorules schema rulebook`).

Descriptions are in Chinese first: they are what legal staff see in an editor's completion.
"""
from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal, Optional, Union

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


def _one_or_list(item_type, *fields: str, min_items: int = 0):
    """A before-validator letting authors write one item for a list (`with: $candidates`); its JSON Schema
    input type says so too, for editors (pydantic ≥ 2.9's public `json_schema_input_type`)."""
    many = Annotated[list[item_type], Field(min_length=min_items)] if min_items else list[item_type]
    return field_validator(*fields, mode="before", json_schema_input_type=Union[item_type, many])(_as_list)


class Effective(_Strict):
    """生效期间：规则只对 as_of 在此期间内的事项适用（同一 id 的几个版本期间不得重叠）。"""

    from_: Optional[dt.date] = Field(None, alias="from", description="生效日期（含当日）")
    until: Optional[dt.date] = Field(None, description="失效日期（含当日）")


class EscalateSpec(_Strict):
    """上报：无牵头部门或有冲突的事项报谁研究明确（实施意见（六）（七））。"""

    to: list[str] = Field(min_length=1, description="上报对象（部门引用，如 party、gov）")
    proposer: Optional[str] = Field(None, description="提出意见的部门，如 sthj（市生态环境局）")
    with_: list[str] = Field(default_factory=list, alias="with", description="会同的部门，如 $candidates")
    steps: list[str] = Field(default_factory=list, description="办理步骤（中文）")

    _to = _one_or_list(str, "to", min_items=1)
    _with = _one_or_list(str, "with_")


class TransferSpec(_Strict):
    """移交：把案件线索等移交给其他机关（实施意见（十六）（十八）（十九））。"""

    to: str = Field(description="移交对象（部门引用）")
    reason: str = Field(min_length=1, description="移交理由（中文）")


class ObligationSpec(_Strict):
    """义务：须办理的事，如年度专题报告（实施意见（十三））。"""

    what: str = Field(min_length=1, description="义务内容（中文）")
    due: Optional[str] = Field(None, description="期限：文字，ISO 日期，或 annual:MM-DD / annual:MM-end（每年）")
    to: list[str] = Field(default_factory=list, description="报送对象（部门引用）")
    copy_: list[str] = Field(default_factory=list, alias="copy", description="抄送对象（部门引用）")

    _lists = _one_or_list(str, "to", "copy_")


class RuleSpec(_Strict):
    """一条规则：条件（when）成立时产生效果（set / lead / escalate …），并注明依据（cite）。"""

    id: str = Field(pattern=RULE_ID, description="规则编号，全规则库唯一，如 air.construction-dust")
    title: str = Field(min_length=1, description="规则标题（中文）")
    source: Optional[str] = Field(None, description="依据文件名，覆盖文件级 source")
    cite: str = Field(min_length=1, description="依据条款，如 第九十八条；实施意见（五）")
    provenance: Optional[Literal["source", "partial", "inference", "disputed"]] = Field(
        None, description="来源可靠性：source 有明文 / partial 部分有明文 / inference 推断 / disputed 有争议")
    note: Optional[str] = Field(None, description="说明（争议、推断之处）")
    when: Optional[Union[Literal["always"], dict[str, Any]]] = Field(
        None, description="条件：字段 → 判断；对所有事项都适用的规则写 always（不写 when 是错误 E305）")
    set: Optional[dict[str, Scalar]] = Field(None, description="推导的字段（classify 阶段），如 {category: catering_fumes}")
    lead: Optional[str] = Field(None, description="牵头部门（assign 阶段）")
    assist: list[str] = Field(default_factory=list, description="配合部门（assign 阶段）")
    escalate: Optional[EscalateSpec] = Field(None, description="上报（route 阶段）")
    transfer: list[TransferSpec] = Field(default_factory=list, description="移交（route 阶段）")
    obligation: list[ObligationSpec] = Field(default_factory=list, description="义务（route 阶段）")
    status: Optional[Literal["resolved", "conflict", "unassigned", "out_of_scope"]] = Field(
        None, description="改变状态（route 阶段）；out_of_scope 不属于生态环境保护事项")

    priority: int = Field(50, ge=0, le=1000, description="优先级：法律法规 90 > 责任清单 70 > 审批 50 > 行业 30 > 兜底 10")
    effective: Optional[Effective] = Field(None, description="生效期间 {from, until}")
    overrides: list[str] = Field(default_factory=list, description="本规则作为例外所覆盖的规则编号")
    disputes: list[str] = Field(default_factory=list,
                                description="与这些规则同时适用时的冲突是有意的（依据不一，须上报决定），check 不再警告")

    _lists = _one_or_list(str, "overrides", "disputes", "assist")
    _transfers = _one_or_list(TransferSpec, "transfer")
    _obligations = _one_or_list(ObligationSpec, "obligation")


class ListHeader(_Strict):
    """清单层：某一辖区自己公布的责任清单（实施意见（五）部门责任清单、（六）区责任清单）。其 assign 规则只适用于
    该辖区的事项，并且优先于本规则库对法规的解读和推断（不论优先级数值）；check 报告清单与市级解读不同之处（W340）。"""

    jurisdiction: str = Field(pattern=ROLE, description="清单所属辖区：区代码（如 huangpu），市级清单写 sh")
    title: str = Field(min_length=1, description="清单名称，如 黄浦区生态环境保护工作责任清单；也是本文件规则的默认依据名称")
    document: str = Field(min_length=1, description="发布文件：文号或出处（如 黄府办发〔2025〕1号）")
    date: dt.date = Field(description="公布日期；本层规则缺省自该日起生效")
    issuer: Optional[str] = Field(None, description="发布机关")
    url: Optional[str] = Field(None, description="公布网址")
    provenance: Literal["source", "inference"] = Field(
        description="source 已核对公布文本 / inference 未核对（结果中标注“推定”）；示例清单必须为 inference")
    sample: bool = Field(False, description="示例：说明用，不是真实公布的清单（结果中注明）")
    note: Optional[str] = Field(None, description="说明")


class RuleFile(_Strict):
    """规则文件：同一阶段的一组规则。"""

    layer: Optional[ListHeader] = Field(
        None, alias="list", description="清单层（lists/<辖区>/ 下的文件必须有）：本文件是某一辖区公布的责任清单")
    stage: Literal["classify", "assign", "route"] = Field(description="阶段：classify 分类 → assign 定牵头 → route 上报/移交/义务")
    source: Optional[str] = Field(None, description="本文件规则的默认依据文件名")
    rules: list[RuleSpec] = Field(description="规则列表")


class NameTemplate(_Strict):
    """区级对应部门的名称模板。"""

    name: str = Field(description="区级对应部门全称模板，{区} 为区名（如 黄浦区），{区简} 为简称")
    short_name: str = Field(description="区级对应部门简称模板")
    name_en: Optional[str] = Field(None, description="英文名称（说明用）")
    confidence: Optional[Literal["source", "inference"]] = Field(
        None, description="名称可靠性：source 已核实 / inference 推定（结果中标注\"推定\"）；缺省随所属职能的 confidence")
    basis: Optional[str] = Field(None, description="出处：文件、网址或 sources.md 中的 S 编号")


class DepartmentSpec(_Strict):
    """一个职能（角色）：市级机构及其在各区的对应部门。"""

    role: str = Field(pattern=ROLE, description="职能代码，如 sthj")
    name: str = Field(description="市级机构全称")
    short_name: str = Field(description="市级机构简称")
    name_en: Optional[str] = Field(None, description="英文名称")
    kind: Literal["party_committee", "government", "functional_department", "police", "court", "procuratorate",
                  "discipline_inspection", "audit", "coordination_body", "platform", "central_agency",
                  "sub_district"] = Field(description="机构类型：党委、政府、职能部门、公安、法院、检察院、纪检监察、审计、议事协调机构、平台、中央驻沪机构、街镇")
    enforcement: Literal["yes", "no", "limited"] = Field(description="是否有行政执法（处罚）权")
    aliases: list[str] = Field(default_factory=list, description="别名（常用叫法）")
    reports_to: Optional[list[str]] = Field(
        None, description="本机构向同级哪些机构负责、报告（职能代码）；缺省为党委 party 和政府 gov，"
                          "中央驻沪机构缺省为不向地方报告。决定“同级党委和政府”（$lead.leadership）指向谁")
    functions: list[str] = Field(default_factory=list, description="主管的事项类别（说明用）")
    municipal: bool = Field(True, description="是否有市级机构（街镇为 false）")
    district: Union[Literal["none", "shared"], NameTemplate] = Field(
        description="区级对应：名称模板；none 无区级对应；shared 市级机构兼管各区")
    confidence: Optional[Literal["source", "inference"]] = Field(
        None, description="可靠性：source 有出处 / inference 推断（须核实）")
    basis: Optional[str] = Field(None, description="出处（sources.md 中的 S 编号等）")


class DistrictSpec(_Strict):
    """一个区：名称，以及与模板不同之处（哪些职能由别的部门承担、哪些部门没有）。"""

    code: str = Field(pattern=ROLE, description="区代码，如 huangpu")
    name: str = Field(description="区名全称，如 黄浦区")
    short_name: str = Field(description="区名简称，如 黄浦")
    name_en: Optional[str] = Field(None, description="英文名称")
    type: Optional[str] = Field(None, description="区的类型（中心城区、郊区等，说明用）")
    held_by: dict[str, str] = Field(default_factory=dict, description="职能 → 本区承担该职能的部门职能代码")
    absent: list[str] = Field(default_factory=list, description="本区没有、也无人承担的职能")
    names: dict[str, NameTemplate] = Field(default_factory=dict, description="本区与模板不同的部门名称")
    former_names: list[str] = Field(default_factory=list,
                                    description="已撤并、现属本区的旧区县名（如 南汇区）：用于给出准确的提示，不自动改写")
    confidence: Optional[Literal["source", "inference"]] = Field(
        None, description="可靠性：source 有出处 / inference 推断（须核实）")
    basis: Optional[str] = Field(None, description="出处（sources.md 中的 S 编号等）")


class OrgFile(_Strict):
    """组织数据文件：各职能（部门）与 16 个区。"""

    departments: list[DepartmentSpec] = Field(default_factory=list, description="职能（部门）列表")
    districts: list[DistrictSpec] = Field(default_factory=list, description="区列表")


class CategorySpec(_Strict):
    """一个事项类别。"""

    id: str = Field(pattern=ROLE, description="事项类别编号")
    name: str = Field(description="事项类别名称（中文）")
    sector: Optional[str] = Field(None, description="所属领域：air 大气、water 水、soil 土壤、waste 固废、noise 噪声、ecology 生态等")
    provenance: Optional[Literal["source", "partial", "inference", "disputed"]] = Field(
        None, description="来源可靠性：source 有明文 / partial 部分有明文 / inference 推断 / disputed 有争议")
    note: Optional[str] = Field(None, description="说明")


class CategoriesFile(_Strict):
    """事项类别表。"""

    categories: list[CategorySpec] = Field(description="事项类别列表")


class ExpectedEscalation(_Strict):
    """期望的上报。"""

    to: list[str] = Field(default_factory=list, description="期望的上报对象（部门引用）")
    proposer: Optional[str] = Field(None, description="期望的提出意见部门（部门引用）")

    _lists = _one_or_list(str, "to")


class Expectation(_Strict):
    """期望的判断结果；只写要检查的项。"""

    status: Optional[Literal["resolved", "conflict", "unassigned", "out_of_scope", "invalid"]] = Field(
        None, description="期望状态：resolved 已明确 / conflict 有冲突 / unassigned 无牵头 / out_of_scope 不属于生态环境事项 / "
                          "invalid 输入无效")
    category: Optional[str] = Field(None, description="期望的事项类别")
    lead: Optional[str] = Field(None, description="期望牵头部门（引用）")
    assist: Optional[list[str]] = Field(None, description="期望配合部门（完整集合）")
    assist_includes: list[str] = Field(default_factory=list, description="期望至少包含的配合部门")
    candidates: Optional[list[str]] = Field(None, description="期望的冲突候选牵头部门（完整集合）")
    escalation: Optional[ExpectedEscalation] = Field(None, description="期望上报；写 null 表示不上报")
    transfers: Optional[list[str]] = Field(None, description="期望的移交对象（完整集合，部门引用）")
    obligations: Optional[list[str]] = Field(None, description="期望的义务内容（完整集合，写 what 的文字）")
    jurisdiction: Optional[str] = Field(None, description="期望的辖区：sh 或区代码（检验地点的读法）")
    warnings: Optional[list[str]] = Field(None, description="期望的提示代码（完整集合，如 [W401]）")
    named: Optional["ExpectedNamed"] = Field(None, description="期望标题中读出的第一个部门（named.role / level / id）")


class ExpectedNamed(_Strict):
    """期望从标题中读出的第一个部门；只写要检查的项。"""

    role: Optional[str] = Field(None, description="职能代码，如 jtw")
    level: Optional[Literal["municipal", "district"]] = Field(None, description="层级：municipal 市级 / district 区级")
    id: Optional[str] = Field(None, description="机构，如 sh.jtw")

Expectation.model_rebuild()


class RuleTestSpec(_Strict):
    """一个规则测试：一个事项，和期望的判断。"""

    name: str = Field(min_length=1, description="测试名称（中文）")
    matter: dict[str, Any] = Field(description="事项：id、title、district、category、approved_by、source、as_of、facts")
    expect: Expectation = Field(description="期望结果")


class RuleTestFile(_Strict):
    """规则测试文件（ecorules test 运行）。"""

    tests: list[RuleTestSpec] = Field(description="测试列表")


class PlaceSpec(_Strict):
    """一个地名：街道、镇、乡、功能区、常用地名、旧区县名，或不是地名的词（如 黄浦江）与全市性用语（如 全市）。"""

    name: str = Field(min_length=1, description="地名（街镇写统计用区划的全称，如 南翔镇）")
    district: Optional[str] = Field(None, pattern=ROLE,
                                    description="所属区代码，如 jiading；not_place（非地名）与 citywide（全市性用语）不写")
    kind: Literal["street", "town", "township", "zone", "area", "former_district", "not_place", "citywide"] = Field(
        description="类别：street 街道 / town 镇 / township 乡 / zone 开发区、园区、农场等 / area 常用地名 / "
                    "former_district 已撤并的旧区县 / not_place 含区名却不是该区的词（黄浦江、普陀山） / "
                    "citywide 全市性用语（全市、本市）")
    code: Optional[str] = Field(None, pattern=r"^\d{9,12}$", description="统计用区划代码（街镇 9 位）")
    aliases: list[str] = Field(default_factory=list, description="简称、俗称（如 南翔镇 → 南翔）")
    provenance: Literal["source", "inference"] = Field(
        description="来源可靠性：source 有出处（写 basis 或文件级 source）/ inference 推断（须核实）")
    basis: Optional[str] = Field(None, description="出处或推断的理由")
    note: Optional[str] = Field(None, description="说明")

    _lists = _one_or_list(str, "aliases")


class PlacesFile(_Strict):
    """地名表（gazetteer）：从事项的 district 字段或标题中读出所属区。"""

    source: str = Field(min_length=1, description="地名表的来源，如 国家统计局 2023 年统计用区划代码")
    as_of: Optional[dt.date] = Field(None, description="来源的截止日期，如 2023-06-30")
    places: list[PlaceSpec] = Field(description="地名列表")


class AliasSpec(_Strict):
    """部门的俗称、简称、旧称（如 环保局、建委、工商），用于从事项标题中读出所提到的部门。"""

    name: str = Field(min_length=1, description="叫法，如 环保局；前面带“市”“区”或区名时由程序识别层级，不必另写")
    role: str = Field(pattern=ROLE, description="所指的职能代码，如 sthj")
    level: Optional[Literal["municipal", "district"]] = Field(
        None, description="叫法本身所指的层级（如 派出所、居委 只在区级）；缺省时看前面的“市”“区”或区名")
    former: bool = Field(False, description="是否已撤并机构的旧称（如 工商、质监 → 市场监管）")
    provenance: Literal["source", "inference"] = Field(description="来源可靠性：source 有出处 / inference 推断（须核实）")
    basis: Optional[str] = Field(None, description="出处或推断的理由")
    note: Optional[str] = Field(None, description="说明")


class AliasesFile(_Strict):
    """部门叫法表：市民、工作人员在工单中对部门的叫法。"""

    source: Optional[str] = Field(None, description="本表的来源说明")
    aliases: list[AliasSpec] = Field(description="叫法列表")
    ignore: list[str] = Field(default_factory=list,
                              description="含部门叫法却不是在说部门的词，读标题时跳过（如 街道上、12345）")


class RulebookMeta(_Strict):
    """规则库的名称与版本。"""

    name: str = Field(description="规则库名称")
    version: str = Field(description="规则库版本")
    policy: Optional[str] = Field(None, description="所依据的政策文件")
    description: Optional[str] = Field(None, description="说明")


class MetaFile(_Strict):
    """规则库说明文件（rulebook.yaml）。"""

    rulebook: RulebookMeta = Field(description="规则库信息")


class StatuteSpec(_Strict):
    """随附的一部法律、法规或规范性文件文本：标题、简称、文本文件、版本与施行日期。"""

    title: str = Field(min_length=1, description="标题全称（不带书名号），如 中华人民共和国大气污染防治法")
    aliases: list[str] = Field(default_factory=list,
                               description="规则的 source / cite 中可能写的其他名称，如 大气污染防治法、实施意见")
    file: str = Field(min_length=1, description="文本文件名（与本索引同一目录）")
    kind: Literal["law", "administrative_regulation", "local_regulation", "normative_document"] = Field(
        description="类别：law 法律 / administrative_regulation 行政法规 / local_regulation 地方性法规 / "
                    "normative_document 规范性文件（按（一）（二）…分项）")
    version: Optional[dt.date] = Field(None, description="本文本的版本日期（通过或最后一次修正、修订的日期）；不详则省略")
    effective: Optional[dt.date] = Field(None, description="本版本的施行日期：早于此日的事项或规则无法用本文本核对")
    note: Optional[str] = Field(None, description="说明（版本、出处的疑问）")


class StatutesFile(_Strict):
    """随附法规文本的索引（statutes/index.yaml）：check 据此核对每条规则所引条号，explain --quote 据此引用原文。"""

    provenance: Optional[str] = Field(None, description="文本出处（汇编名称、版本、提交号）")
    statutes: list[StatuteSpec] = Field(description="法规文本列表")


def rulebook_schema() -> dict:
    """JSON Schema for any file of a rulebook (rules, org data, categories, tests, rulebook.yaml), for editors."""
    from pydantic import TypeAdapter
    kinds = Union[RuleFile, OrgFile, CategoriesFile, RuleTestFile, MetaFile, PlacesFile, AliasesFile, StatutesFile]
    schema = TypeAdapter(kinds).json_schema(by_alias=True)
    _require_when(schema)
    schema.update({"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "ecorules 规则库文件",
                   "description": "ecorules 规则库中的一个 YAML 文件：规则（stage + rules）、组织数据（departments / districts）、"
                                  "事项类别（categories）、规则测试（tests）、规则库说明（rulebook）、"
                                  "地名表（places）、部门叫法表（aliases）或随附法规文本索引（statutes）。"})
    return schema


def _require_when(schema: dict) -> None:
    """`check` refuses a rule without `when` (E305, with its own message rather than a schema error): so does the schema."""
    definition = schema["$defs"]["RuleSpec"]
    definition["required"] = sorted({*definition.get("required", ()), "when"})


# top-level key → the model of that kind of file (the first matching key decides)
FILE_KINDS: dict[str, type[BaseModel]] = {
    "rulebook": MetaFile,
    "rules": RuleFile,
    "departments": OrgFile,
    "districts": OrgFile,
    "categories": CategoriesFile,
    "tests": RuleTestFile,
    "places": PlacesFile,
    "aliases": AliasesFile,
    "statutes": StatutesFile,
}
