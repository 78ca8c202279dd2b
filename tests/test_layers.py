"""Authority layers (issue 10, finding 12): a jurisdiction's own published list outranks the city rulebook's
readings for that jurisdiction, whatever their priority numbers, without editing city rules; `check` reports
where a list departs from the city's reading (W340); list files are validated like every rule file."""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import RULES, write_rulebook
from ecorules import Engine, check_rulebook
from ecorules.cli import main
from ecorules.io.columns import reliability
from ecorules.lint import lint_rulebook

SAMPLE = "lists/jiading/sample-list.yaml"
DAY = "2025-06-01"


CITY = """
stage: assign
source: 上海市大气污染防治条例
rules:
  - id: air.construction-dust
    title: 建设工程施工扬尘由建设管理部门牵头
    cite: 第九十八条
    provenance: partial
    when: {category: construction_dust}
    lead: zjw
    assist: [sthj]
    priority: 90
"""
LIST = """
list:
  jurisdiction: huangpu
  title: 黄浦区生态环境保护工作责任清单
  document: 黄府办发〔2025〕1号
  date: 2025-01-01
  provenance: source
stage: assign
rules:
  - id: list.huangpu.construction-dust
    title: 建设工程施工扬尘由区生态环境局牵头
    cite: 第一项
    when: {category: construction_dust}
    lead: sthj
    assist: [zjw]
    priority: 10
"""


def small(tmp_path, files) -> Path:
    return write_rulebook(tmp_path / "rules", files)


def dust(engine, matter_id: str, as_of: str = DAY, **where):
    """A construction-dust matter, with `district=` or `level=`."""
    return engine.resolve({"id": matter_id, "title": "工地扬尘", "category": "construction_dust", "as_of": as_of, **where})


# ---------------------------------------------------------------- the decision order
def test_a_list_at_priority_10_outranks_a_priority_90_reading_in_its_jurisdiction_only(tmp_path):
    root = small(tmp_path, {"assign/city.yaml": CITY, "lists/huangpu/list.yaml": LIST})
    with Engine.from_directory(root) as engine:
        huangpu, pudong = dust(engine, "a", district="黄浦区"), dust(engine, "b", district="浦东新区")
        city, before = dust(engine, "c", level="municipal"), dust(engine, "d", "2024-12-31", district="黄浦区")
    assert huangpu.status == "resolved" and huangpu.lead.id == "huangpu.sthj"
    assert [d.id for d in huangpu.assist] == ["huangpu.zjw"]
    outcomes = {b.rule: b.outcome for b in huangpu.basis if b.stage == "assign"}
    assert outcomes == {"air.construction-dust": "outranked", "list.huangpu.construction-dust": "adopted"}
    assert "《黄浦区生态环境保护工作责任清单》第一项" in huangpu.explanation
    assert ("《黄浦区生态环境保护工作责任清单》是黄浦区公布的责任清单（黄府办发〔2025〕1号，2025-01-01），优先于规则库对法规的"
            "解读（规则 air.construction-dust 未采用）。") in huangpu.explanation
    assert "示例" not in huangpu.explanation and "推定" not in huangpu.explanation   # a checked list, a verified body
    assert pudong.lead.id == "pudong.zjw" and city.lead.id == "sh.zjw"      # other jurisdictions: the city's reading
    assert {b.rule for b in pudong.basis} == {"air.construction-dust"}
    assert before.lead.id == "huangpu.zjw"                                 # in force from the list's date


def test_a_municipal_list_applies_to_municipal_matters_only(tmp_path):
    municipal = LIST.replace("jurisdiction: huangpu", "jurisdiction: sh").replace("huangpu", "sh")
    root = small(tmp_path, {"assign/city.yaml": CITY, "lists/sh/list.yaml": municipal})
    with Engine.from_directory(root) as engine:
        city, district = dust(engine, "c", level="municipal"), dust(engine, "d", district="黄浦区")
    assert city.lead.id == "sh.sthj" and district.lead.id == "huangpu.zjw"


def test_within_a_list_priority_and_overrides_work_as_usual(tmp_path):
    two = LIST + """
  - id: list.huangpu.construction-dust.night
    title: 夜间施工扬尘由区城管执法局牵头
    cite: 第二项
    when: {category: construction_dust, facts.night: true}
    lead: cgzf
    priority: 10
    overrides: [list.huangpu.construction-dust]
"""
    root = small(tmp_path, {"assign/city.yaml": CITY, "lists/huangpu/list.yaml": two})
    with Engine.from_directory(root) as engine:
        r = dust(engine, "a", district="黄浦区", facts={"night": True})
    assert r.lead.id == "huangpu.cgzf"


# ---------------------------------------------------------------- the shipped sample layer
def test_the_shipped_rulebook_does_not_load_the_sample(default_engine):
    r = default_engine.resolve({"id": "s", "title": "饭店油烟扰民", "district": "嘉定区", "as_of": DAY})
    assert r.lead.id == "jiading.sthj"
    assert not (RULES / "lists").exists()


def test_sample_layer_outranks_the_priority_90_reading_in_jiading(sample_engine):
    default_engine = sample_engine
    r = default_engine.resolve({"id": "s", "title": "饭店油烟扰民", "district": "嘉定区", "as_of": DAY})
    assert r.lead.id == "jiading.cgzf"
    by_rule = {b.rule: b for b in r.basis if b.stage == "assign"}
    city = default_engine.rulebook.versions["air.catering-fumes"][0]
    assert city.priority == 90 and by_rule["air.catering-fumes"].outcome == "outranked"
    adopted = by_rule["list.jiading.catering-fumes"]
    assert adopted.outcome == "adopted" and adopted.file == SAMPLE and adopted.provenance == "inference"
    # the sample is visible as such: 推定 in the conclusion, the sample named, 推定 in the CSV column
    assert "推定由嘉定区城管执法局牵头" in r.explanation
    assert "示例" in r.explanation and "并非真实公布" in r.explanation
    assert reliability(r) == "推定"


@pytest.mark.parametrize("district, lead", [("宝山区", "baoshan.sthj"), ("黄浦区", "huangpu.sthj"), (None, "sh.sthj")])
def test_sample_layer_does_not_touch_other_jurisdictions(sample_engine, district, lead):
    default_engine = sample_engine
    matter = {"id": "s", "title": "饭店油烟扰民", "category": "catering_fumes", "as_of": DAY}
    matter.update({"district": district} if district else {"level": "municipal"})
    r = default_engine.resolve(matter)
    assert r.lead.id == lead
    assert all(not b.file.startswith("lists/") for b in r.basis)


def test_check_reports_where_the_sample_list_departs_from_the_city_reading(with_sample):
    RULES = with_sample
    _, diagnostics = check_rulebook(RULES)
    found = [d for d in diagnostics if d.code == "W340"]
    assert len(found) == 1
    w340 = found[0]
    assert w340.severity == "warning" and w340.rule_id == "list.jiading.catering-fumes"
    assert w340.location.file.endswith(SAMPLE)
    line = (RULES / SAMPLE).read_text(encoding="utf-8").splitlines()[w340.location.line - 1]
    assert line[w340.location.col - 1:].startswith("lead: cgzf")
    assert "air.catering-fumes" in w340.message and "优先级 90" in w340.message and "嘉定区城管执法局" in w340.message
    assert "核对清单原文" in w340.suggestion


def test_check_cli_shows_the_departure_and_stays_green(with_sample):
    result = CliRunner().invoke(main, ["check", str(with_sample)])
    assert result.exit_code == 0, result.output
    assert "W340 [list.jiading.catering-fumes] 清单与市级规则库的解读不同" in result.output


def test_no_departure_reported_when_the_list_agrees(tmp_path):
    agreeing = LIST.replace("lead: sthj", "lead: zjw").replace("assist: [zjw]", "assist: [sthj]")
    root = small(tmp_path, {"assign/city.yaml": CITY, "lists/huangpu/list.yaml": agreeing})
    rulebook, diagnostics = lint_rulebook(root)
    assert rulebook is not None
    assert not [d for d in diagnostics if d.code in ("W340", "W320")]


def test_a_list_and_the_city_reading_at_the_same_priority_is_not_a_static_conflict(tmp_path):
    same = LIST.replace("priority: 10", "priority: 90")
    _, diagnostics = lint_rulebook(small(tmp_path, {"assign/city.yaml": CITY, "lists/huangpu/list.yaml": same}))
    found = [d.code for d in diagnostics if d.severity == "warning" and d.code in ("W320", "W340")]
    assert found == ["W340"]


# ---------------------------------------------------------------- list files are validated like rule files
def codes(root) -> list[tuple[str, str]]:
    _, diagnostics = check_rulebook(root)
    return [(d.code, str(d.location)) for d in diagnostics if d.severity == "error"]


def test_a_rule_file_under_lists_without_its_header_is_e316(tmp_path):
    headless = LIST.split("stage: assign", 1)[1]
    root = small(tmp_path, {"lists/huangpu/list.yaml": "stage: assign" + headless})
    assert [c for c, _ in codes(root)] == ["E370"]


def test_a_list_in_another_jurisdictions_folder_is_e316_at_its_jurisdiction(tmp_path):
    root = small(tmp_path, {"lists/pudong/list.yaml": LIST})
    [(code, where)] = codes(root)
    assert code == "E370" and where.endswith("lists/pudong/list.yaml:2:17")


def test_unknown_jurisdiction_is_e207_with_a_suggestion(tmp_path):
    root = small(tmp_path, {"lists/huangpu/list.yaml": LIST.replace("jurisdiction: huangpu", "jurisdiction: huangpo")})
    _, diagnostics = check_rulebook(root)
    [e207] = [d for d in diagnostics if d.code == "E207"]
    assert "huangpo" in e207.message and "huangpu" in e207.suggestion


def test_a_list_of_route_rules_and_a_sample_claiming_a_source_are_e317(tmp_path):
    route = LIST.replace("stage: assign", "stage: route").replace("lead: sthj\n    assist: [zjw]\n",
                                                                    "status: unassigned\n")
    assert "E371" in [c for c, _ in codes(small(tmp_path / "a", {"lists/huangpu/list.yaml": route}))]
    sample = LIST.replace("provenance: source", "provenance: source\n  sample: true")
    assert [c for c, _ in codes(small(tmp_path / "b", {"lists/huangpu/list.yaml": sample}))] == ["E371"]


def test_a_bad_list_header_is_located_never_a_traceback(tmp_path):
    bad = LIST.replace("date: 2025-01-01", "date: 明年").replace("  provenance: source\n", "  provenace: source\n")
    root = small(tmp_path, {"lists/huangpu/list.yaml": bad})
    result = CliRunner().invoke(main, ["check", str(root)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "list.yaml:5:9: E105" in result.output            # the date, at its value
    assert "list.yaml:6:3: E104 未知的键 'provenace'" in result.output
    assert "Did you mean 'provenance'?" in result.output


def test_list_citations_are_not_reported_as_sources_outside_the_statutes(with_sample):
    _, diagnostics = check_rulebook(with_sample)
    assert not [d for d in diagnostics if d.code.startswith("W24") and d.rule_id and d.rule_id.startswith("list.")]


def test_sample_layer_is_dated_from_its_list(sample_engine):
    rule = sample_engine.rulebook.versions["list.jiading.catering-fumes"][0]
    assert rule.effective_from == dt.date(2025, 1, 1) and rule.layer.sample and rule.authority == 1


def test_the_list_header_is_in_the_rulebook_schema_with_chinese_descriptions():
    from ecorules.spec import RuleFile
    schema = RuleFile.model_json_schema(by_alias=True)
    assert "list" in schema["properties"]
    header = schema["$defs"]["ListHeader"]
    assert set(header["required"]) == {"jurisdiction", "title", "document", "date", "provenance"}
    assert "公布日期" in header["properties"]["date"]["description"]


def test_removing_the_list_layer_changes_nothing_outside_its_jurisdiction(tmp_path, sample_engine, fixture_matters):
    """Every fixture matter outside 嘉定 resolves exactly as without the layer; inside 嘉定 only the lead of what
    the list covers changes."""
    default_engine = sample_engine
    plain = RULES
    matters = [{**m, "as_of": m.get("as_of") or DAY} for m in fixture_matters]
    matters += [{"id": f"jd-{i}", "title": title, "district": "嘉定区", "as_of": DAY}
                for i, title in enumerate(("工地扬尘", "饭店油烟扰民", "河道发黑发臭", "夜间施工噪声"))]
    with Engine.from_directory(plain) as without:
        for matter in matters:
            a, b = default_engine.resolve(matter), without.resolve(matter)
            listed = any(x.file.startswith("lists/") for x in a.basis)
            if not listed:
                assert a.model_dump(exclude={"rulebook"}) == b.model_dump(exclude={"rulebook"}), matter["id"]
            else:
                assert a.jurisdiction == "jiading" and a.category == "catering_fumes" and b.lead.role == "sthj"


def test_two_lists_of_one_jurisdiction_that_disagree_are_a_conflict(tmp_path):
    other = LIST.replace("黄浦区生态环境保护工作责任清单", "黄浦区住房城乡建设领域责任清单").replace(
        "list.huangpu.construction-dust", "list.huangpu.zjw-dust").replace("lead: sthj", "lead: lhsr")
    root = small(tmp_path, {"assign/city.yaml": CITY, "lists/huangpu/a.yaml": LIST, "lists/huangpu/b.yaml": other})
    with Engine.from_directory(root) as engine:
        r = dust(engine, "a", district="黄浦区")
    assert r.status == "conflict" and {d.id for d in r.candidates} == {"huangpu.sthj", "huangpu.lhsr"}
    _, diagnostics = lint_rulebook(root)
    assert "W320" in {d.code for d in diagnostics}


def test_the_sample_layers_own_rule_tests_pass_on_the_composed_rulebook(with_sample):
    result = CliRunner().invoke(main, ["test", str(with_sample)])
    assert result.exit_code == 0, result.output
    assert "lists/jiading/tests.yaml" in result.output
