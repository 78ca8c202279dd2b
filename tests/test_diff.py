"""`ecorules diff`: the same matters under two rulebooks, changes grouped by the rule change that caused them."""
from __future__ import annotations

import json

from click.testing import CliRunner

from conftest import FIXTURES, RULES
from ecorules import load_rulebook
from ecorules.cli import main
from ecorules.diff import ORG_OR_CATEGORIES, diff_rulebooks, report_lines, rule_changes
from ecorules.io import open_reader

RULES_V1 = """
    stage: assign
    rules:
      - id: dust
        title: 施工扬尘
        cite: 第九十八条
        when: {category: construction_dust}
        lead: zjw
        assist: [sthj]
        priority: 90
      - id: fumes
        title: 餐饮油烟
        cite: 第一百零四条
        when: {category: catering_fumes}
        lead: sthj
        priority: 90
"""
ROUTE = """
    stage: route
    rules:
      - id: district.unassigned
        title: 区级无牵头事项报区委、区政府
        cite: 实施意见（七）
        when: {status: unassigned, level: district}
        escalate: {to: [party, gov], proposer: sthj}
"""
MATTERS = [
    {"id": "m1", "title": "工地扬尘", "category": "construction_dust", "district": "徐汇区"},
    {"id": "m2", "title": "饭店油烟", "category": "catering_fumes", "district": "徐汇区"},
    {"id": "m3", "title": "工地扬尘", "category": "construction_dust", "district": "黄浦区"},
]


def _matters_file(tmp_path, rows=MATTERS):
    path = tmp_path / "matters.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def _diff(old_dir, new_dir, matters_path):
    with open_reader(str(matters_path)) as rows:
        return diff_rulebooks(load_rulebook(old_dir), load_rulebook(new_dir), rows)


def test_the_same_rulebook_changes_nothing(tmp_path):
    report = _diff(RULES, RULES, FIXTURES / "matters.jsonl")
    assert report.rule_changes == {} and not report.org_changed
    assert report.changes == [] and report.total == sum(1 for _ in open(FIXTURES / "matters.jsonl", encoding="utf-8"))


def test_a_changed_lead_is_reported_per_matter_and_grouped_under_the_rule(make_rulebook, tmp_path):
    old = make_rulebook({"assign/a.yaml": RULES_V1, "route/r.yaml": ROUTE})
    new = make_rulebook({"assign/a.yaml": RULES_V1.replace("lead: zjw", "lead: cgzf"), "route/r.yaml": ROUTE})
    report = _diff(old, new, _matters_file(tmp_path))
    assert [(c.kind, c.id, c.keys) for c in report.rule_changes.values()] == [("changed", "dust", ("lead",))]
    assert [(c.id, c.fields, c.causes) for c in report.changes] == [("m1", ("lead",), ("dust",)),
                                                                     ("m3", ("lead",), ("dust",))]
    assert report.groups() == [(("dust",), report.changes)]
    text = "\n".join(report_lines(report))
    assert "修改规则 dust（assign/a.yaml:3）：lead" in text
    assert "【修改 dust】2 件" in text
    assert "m1：牵头 徐汇区建设管理委 → 徐汇区城管执法局" in text
    assert "m2" not in text  # unchanged matters are not listed


def test_a_removed_rule_sends_its_matters_up(make_rulebook, tmp_path):
    old = make_rulebook({"assign/a.yaml": RULES_V1, "route/r.yaml": ROUTE})
    without_fumes = RULES_V1[:RULES_V1.index("      - id: fumes")]
    new = make_rulebook({"assign/a.yaml": without_fumes, "route/r.yaml": ROUTE})
    report = _diff(old, new, _matters_file(tmp_path))
    [change] = report.changes
    assert change.id == "m2" and change.causes == ("fumes",)
    assert change.fields == ("lead", "status", "escalation")
    assert change.after.status == "unassigned" and change.after.escalation.to[0].id == "xuhui.party"
    assert report.rule_changes["fumes"].describe() == "删除规则 fumes（原在 assign/a.yaml:10）"


def test_an_added_exception_is_the_cause_of_what_it_takes_over(make_rulebook, tmp_path):
    exception = """
        stage: assign
        rules:
          - id: dust.huangpu
            title: 黄浦区施工扬尘由区生态环境局牵头（假设的区级清单）
            cite: 黄浦区责任清单
            when: {category: construction_dust, district: huangpu}
            lead: sthj
            priority: 95
            overrides: [dust]
    """
    old = make_rulebook({"assign/a.yaml": RULES_V1, "route/r.yaml": ROUTE})
    new = make_rulebook({"assign/a.yaml": RULES_V1, "assign/b.yaml": exception, "route/r.yaml": ROUTE})
    report = _diff(old, new, _matters_file(tmp_path))
    assert [(c.id, c.causes) for c in report.changes] == [("m3", ("dust.huangpu",))]
    assert report.rule_changes["dust.huangpu"].kind == "added"


def test_moving_a_rule_to_another_file_is_not_a_change(make_rulebook):
    first, second = RULES_V1.split("      - id: fumes")
    old = make_rulebook({"assign/a.yaml": RULES_V1})
    new = make_rulebook({"assign/a.yaml": first, "assign/b.yaml": "stage: assign\nrules:\n  - id: fumes" +
                         "\n".join(line[4:] for line in second.split("\n"))})
    assert rule_changes(load_rulebook(old), load_rulebook(new)) == {}


def test_a_change_no_rule_explains_comes_from_the_org_data(make_rulebook, tmp_path):
    with_cgzf = RULES_V1.replace("assist: [sthj]", "assist: [sthj, cgzf]")
    old = make_rulebook({"assign/a.yaml": with_cgzf, "route/r.yaml": ROUTE})
    new = make_rulebook({"assign/a.yaml": with_cgzf, "route/r.yaml": ROUTE})
    # the new org data says 徐汇区 has no 城管执法局 of its own: the lead stays, the assist list loses it
    org = new / "org" / "shanghai.yaml"
    text = org.read_text(encoding="utf-8")
    xuhui = text.index("  - code: xuhui")
    org.write_text(text[:xuhui] + text[xuhui:].replace("absent: [nyncw]", "absent: [nyncw, cgzf]", 1), encoding="utf-8")
    report = _diff(old, new, _matters_file(tmp_path))
    assert report.org_changed and report.rule_changes == {}
    assert [(c.id, c.fields, c.causes) for c in report.changes] == [("m1", ("assist",), (ORG_OR_CATEGORIES,))]
    assert "【组织数据或事项类别表的变化（没有变化的规则参与）】1 件" in report_lines(report)


def test_cli_diff_text_json_and_exit_code(make_rulebook, tmp_path):
    old = make_rulebook({"assign/a.yaml": RULES_V1, "route/r.yaml": ROUTE})
    new = make_rulebook({"assign/a.yaml": RULES_V1.replace("lead: zjw", "lead: cgzf"), "route/r.yaml": ROUTE})
    matters = _matters_file(tmp_path)
    runner = CliRunner()
    text = runner.invoke(main, ["diff", str(old), str(new), str(matters)])
    assert text.exit_code == 0, text.output
    assert "事项：共 3 件，结果变化 2 件（牵头 2）" in text.output
    as_json = runner.invoke(main, ["diff", str(old), str(new), str(matters), "--format", "json", "--exit-code"])
    assert as_json.exit_code == 1  # --exit-code: results changed
    data = json.loads(as_json.output)
    assert data["changed"] == 2 and data["fields"] == {"lead": 2}
    assert data["groups"][0]["causes"] == ["dust"] and data["groups"][0]["count"] == 2
    assert data["groups"][0]["matters"][0] == {"id": "m1", "changed": ["lead"], "before": {"lead": "xuhui.zjw"},
                                               "after": {"lead": "xuhui.cgzf"}}
    same = runner.invoke(main, ["diff", str(old), str(old), str(matters), "--exit-code"])
    assert same.exit_code == 0 and "结果变化 0 件" in same.output


def test_cli_diff_broken_new_rulebook_is_a_diagnostic_not_a_traceback(make_rulebook, tmp_path):
    old = make_rulebook({"assign/a.yaml": RULES_V1})
    new = make_rulebook({"assign/a.yaml": RULES_V1.replace("lead: zjw", "lead: zjww")})
    result = CliRunner().invoke(main, ["diff", str(old), str(new), str(_matters_file(tmp_path))])
    assert result.exit_code == 1
    assert "E201" in result.output and "a.yaml:7:" in result.output and "Traceback" not in result.output


def test_cli_diff_reads_csv_xlsx_and_gb18030_like_resolve():
    runner = CliRunner()
    for args in (["--sheet", "事项"], ["--input-format", "csv"], ["--encoding", "gb18030"]):
        source = {"--sheet": "matters.xlsx", "--input-format": "matters.csv", "--encoding": "matters-gbk.csv"}[args[0]]
        result = runner.invoke(main, ["diff", str(RULES), str(RULES), str(FIXTURES / source), *args])
        assert result.exit_code == 0, result.output
        assert "结果变化 0 件" in result.output and "事项：共 " in result.output
