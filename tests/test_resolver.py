"""Decision semantics (DESIGN.md): priority, overrides, conflict never guessed, assist union,
effective dates, classify, route (escalation, transfers, obligations), matter validation."""
from __future__ import annotations

import datetime as dt

import pytest

from ecorules import Engine

CLASSIFY = """
stage: classify
source: 实施意见
rules:
  - {id: c.fumes, title: 油烟, cite: （八）, when: {title: {contains_any: [油烟, 排烟]}}, set: {category: fumes}, priority: 20}
  - {id: c.noise, title: 噪音, cite: （八）, when: {title: {contains: 噪音}}, set: {category: noise}, priority: 10}
  - {id: c.site-noise, title: 工地噪音, cite: （八）, when: {title: {contains: 工地}}, set: {category: site_noise}, priority: 10}
  - {id: c.dance, title: 广场舞, cite: （八）, when: {title: {contains: 广场舞}}, set: {facts.source_kind: human}}
"""
ASSIGN = """
stage: assign
source: 测试条例
rules:
  - {id: a.fumes, title: 油烟, cite: 第一条, when: {category: fumes}, lead: sthj, assist: [jiezhen, scjgj], priority: 90}
  - {id: a.fumes-sector, title: 油烟行业, cite: 第二条, when: {category: fumes}, lead: scjgj, priority: 30}
  - {id: a.fumes-also, title: 油烟配合, cite: 第三条, when: {category: fumes}, lead: sthj, assist: [fgj, sthj, jiezhen], priority: 90}
  - {id: a.noise-human, title: 人为噪声, cite: 第四条, when: {category: noise, facts.source_kind: human}, lead: gaj,
     overrides: [a.noise], priority: 10}
  - {id: a.noise, title: 噪声, cite: 第五条, when: {category: noise}, lead: sthj, priority: 90}
  - {id: a.coast-a, title: 海洋, cite: 第六条, when: {category: coast}, lead: sthj, priority: 30}
  - {id: a.coast-b, title: 滩涂, cite: 第七条, when: {category: coast}, lead: swj, priority: 30}
  - {id: a.old, title: 旧规, cite: 第八条, when: {category: old}, lead: lhsr, effective: {until: 2020-12-31}}
  - {id: a.new, title: 新规, cite: 第九条, when: {category: old}, lead: zjw, effective: {from: 2021-01-01}}
  - {id: a.approval, title: 谁审批谁负责, cite: 总体要求, when: {approved_by: {exists: true}}, lead: $approved_by, priority: 50}
"""
ROUTE = """
stage: route
source: 实施意见
rules:
  - id: r.city
    title: 市级上报
    cite: （七）
    when: {level: municipal, status: {in: [unassigned, conflict]}}
    escalate: {to: [party, gov], proposer: sthj, with: $candidates, steps: [会同提出意见, 报告]}
  - id: r.district
    title: 区级上报
    cite: （七）
    when: {level: district, status: {in: [unassigned, conflict]}}
    escalate: {to: [party, gov], steps: [区党委和政府研究明确]}
  - id: r.crime
    title: 涉嫌犯罪
    cite: （十九）
    when: {facts.crime: true}
    transfer: {to: gaj, reason: 涉嫌犯罪移送}
  - id: r.report
    title: 年度报告
    cite: （十三）
    when: {facts.annual: true, status: resolved}
    obligation: {what: 年度专题报告, due: "annual:02-end", to: [party, gov], copy: [sthj]}
"""


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    from conftest import write_rulebook
    path = write_rulebook(tmp_path_factory.mktemp("rb"), {
        "classify.yaml": CLASSIFY, "assign.yaml": ASSIGN, "route.yaml": ROUTE})
    with Engine.from_directory(path, today=lambda: dt.date(2025, 3, 1)) as engine:
        yield engine


def outcome(resolution, rule_id):
    return next(b.outcome for b in resolution.basis if b.rule == rule_id)


def ids(departments):
    return [d.id for d in departments]


def test_highest_priority_wins_and_assist_is_union_minus_lead(engine):
    r = engine.resolve({"id": "1", "title": "楼下油烟", "district": "黄浦区"})
    assert r.status == "resolved" and r.category == "fumes"
    assert r.lead.id == "huangpu.sthj"
    # a.fumes then a.fumes-also, in rule order, without the lead and without repeats
    assert ids(r.assist) == ["huangpu.jiezhen", "huangpu.scjgj", "huangpu.fgj"]
    assert outcome(r, "a.fumes-sector") == "lower_priority"
    assert outcome(r, "a.fumes") == "adopted"


def test_override_beats_priority(engine):
    r = engine.resolve({"id": "2", "title": "广场舞噪音", "district": "浦东"})
    assert r.lead.id == "pudong.gaj"
    assert outcome(r, "a.noise") == "overridden"
    plain = engine.resolve({"id": "3", "title": "噪音", "district": "浦东"})
    assert plain.lead.id == "pudong.sthj"


def test_tie_between_different_leads_is_a_conflict_never_a_guess(engine):
    r = engine.resolve({"id": "4", "title": "滩涂", "category": "coast"})
    assert r.status == "conflict" and r.lead is None and r.assist == []
    assert ids(r.candidates) == ["sh.sthj", "sh.swj"]
    assert r.escalation.rule == "r.city"
    assert ids(r.escalation.to) == ["sh.party", "sh.gov"]
    assert r.escalation.proposer.id == "sh.sthj"
    assert ids(r.escalation.consult) == ["sh.sthj", "sh.swj"]
    assert "（七）" in r.escalation.cite


def test_district_escalation_stays_in_the_district(engine):
    r = engine.resolve({"id": "5", "title": "未知事项", "district": "崇明区"})
    assert r.status == "unassigned"
    assert ids(r.escalation.to) == ["chongming.party", "chongming.gov"]
    assert r.escalation.proposer is None


def test_effective_dates_follow_as_of(engine):
    old = engine.resolve({"id": "6", "title": "x", "category": "old", "as_of": "2019-06-01"})
    new = engine.resolve({"id": "7", "title": "x", "category": "old", "as_of": "2023-06-01"})
    assert old.lead.id == "sh.lhsr" and [b.rule for b in old.basis if b.stage == "assign"] == ["a.old"]
    assert new.lead.id == "sh.zjw" and [b.rule for b in new.basis if b.stage == "assign"] == ["a.new"]
    default_day = engine.resolve({"id": "8", "title": "x", "category": "old"})
    assert default_day.as_of == dt.date(2025, 3, 1) and default_day.lead.id == "sh.zjw"


def test_classify_does_not_override_a_given_category(engine):
    r = engine.resolve({"id": "9", "title": "油烟", "category": "noise"})
    assert r.category == "noise"
    assert outcome(r, "c.fumes") == "superseded"


def test_classify_tie_leaves_category_unset(engine):
    r = engine.resolve({"id": "10", "title": "工地噪音"})
    assert r.category is None and r.status == "unassigned"
    assert "分类有歧义" in r.explanation


def test_transfer_and_obligation(engine):
    r = engine.resolve({"id": "11", "title": "油烟", "district": "jingan", "facts": {"crime": True, "annual": True}})
    assert [(t.to.id, t.reason) for t in r.transfers] == [("jingan.gaj", "涉嫌犯罪移送")]
    (duty,) = r.obligations
    assert duty.due == "2026-02-28"  # as_of 2025-03-01 is past this year's end of February
    assert ids(duty.to) == ["jingan.party", "jingan.gov"] and ids(duty.copy_to) == ["jingan.sthj"]
    early = engine.resolve({"id": "12", "title": "油烟", "as_of": "2024-01-10", "facts": {"annual": True}})
    assert early.obligations[0].due == "2024-02-29"


def test_approving_department_leads_and_names_are_literal(engine):
    r = engine.resolve({"id": "13", "title": "项目", "district": "徐汇区", "approved_by": "市生态环境局"})
    assert r.lead.id == "sh.sthj"  # approved at city level: the city bureau supervises (谁审批谁负责)
    r = engine.resolve({"id": "14", "title": "项目", "district": "徐汇区", "approved_by": "zjw"})
    assert r.lead.id == "xuhui.zjw"


@pytest.mark.parametrize("matter, field", [
    ({"id": "b1", "title": "x", "district": "火星区"}, "district"),
    ({"id": "b2", "title": "x", "district": "黄浦区", "level": "municipal"}, "level"),
    ({"id": "b3", "title": "x", "level": "district"}, "district"),
    ({"id": "b4", "title": "x", "as_of": "2024-13-45"}, "as_of"),
    ({"id": "b5", "title": ""}, "title"),
    ({"id": "b6"}, "title"),
    ({"title": "x"}, "id"),
    ({"id": "b8", "title": "x", "approved_by": "市环保厅"}, "approved_by"),
    ({"id": "b9", "title": "x", "catgory": "fumes"}, "catgory"),
])
def test_bad_matters_become_invalid_results(engine, matter, field):
    r = engine.resolve(matter)
    assert r.status == "invalid"
    assert r.error.field == field
    assert r.id == matter.get("id")
    assert r.rulebook.hash == engine.rulebook.hash


def test_suggestion_for_a_misspelt_field(engine):
    r = engine.resolve({"id": "b9", "title": "x", "catgory": "fumes"})
    assert "category" in r.error.message


def test_district_names_in_every_form(engine):
    for name in ("浦东新区", "浦东", "pudong"):
        r = engine.resolve({"id": "d", "title": "油烟", "district": name})
        assert r.lead.id == "pudong.sthj" and r.level == "district" and r.jurisdiction == "pudong"


def test_resolve_many_is_lazy_and_keeps_order(engine):
    seen = []

    def source():
        for i in range(3):
            seen.append(i)
            yield {"id": str(i), "title": "油烟"} if i != 1 else {"id": "1"}
    results = engine.resolve_many(source())
    assert seen == []
    first = next(results)
    assert seen == [0] and first.id == "0"
    rest = list(results)
    assert [r.id for r in rest] == ["1", "2"] and rest[0].status == "invalid"


def test_non_dict_input_is_invalid(engine):
    r = engine.resolve(["not", "a", "matter"])
    assert r.status == "invalid" and r.id is None


def test_a_merged_district_is_taken_as_the_district_it_is_part_of_now_with_a_warning(default_engine):
    # contract change (DESIGN.md, Matter.district): a former district is no longer `invalid`
    for old, now, code in (("南汇区", "浦东新区", "pudong"), ("闸北", "静安区", "jingan"), ("卢湾区", "黄浦区", "huangpu")):
        result = default_engine.resolve({"id": "m", "title": "饭店油烟", "district": old})
        assert result.status != "invalid" and result.jurisdiction == code
        assert [w.code for w in result.warnings] == ["W402"] and now in result.warnings[0].message


def test_a_district_written_with_the_city_in_front_is_understood(default_engine):
    assert default_engine.resolve({"id": "m", "title": "饭店油烟", "district": "上海市黄浦区"}).jurisdiction == "huangpu"


def test_category_by_id_or_chinese_name_and_unknown_is_invalid(default_engine):
    by_name = default_engine.resolve({"id": "m", "title": "t", "district": "黄浦区", "category": "建设工程施工扬尘"})
    assert by_name.category == "construction_dust" and by_name.lead.id == "huangpu.zjw"
    unknown = default_engine.resolve({"id": "m", "title": "t", "district": "黄浦区", "category": "dust"})
    assert unknown.status == "invalid" and unknown.error.field == "category" and "port_dust" in unknown.error.message
