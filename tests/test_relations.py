"""Relations in rule references ($lead.leadership, $lead.supervisor, $lead.<role>): the graph, not a table, decides.

Each test builds a small rulebook whose org file is written here, so an edge removed in the data shows up in the
answer. Issue 15: "A test removes a reports_to edge from a small org file and shows the escalation change".
"""
from __future__ import annotations

import pytest

from ecorules import Engine, check_rulebook

ORG = """
departments:
  - role: party
    name: 中国共产党上海市委员会
    short_name: 市委
    kind: party_committee
    enforcement: "no"
    district: {name: "中共上海市{区}委员会", short_name: "{区}委"}
  - role: gov
    name: 上海市人民政府
    short_name: 市政府
    kind: government
    enforcement: limited
    district: {name: "上海市{区}人民政府", short_name: "{区}政府"}
  - role: sthj
    name: 上海市生态环境局
    short_name: 市生态环境局
    kind: functional_department
    enforcement: "yes"
    district: {name: "上海市{区}生态环境局", short_name: "{区}生态环境局"}
  - role: zjw
    name: 上海市住房和城乡建设管理委员会
    short_name: 市住房城乡建设管理委
    kind: functional_department
    enforcement: "yes"
    REPORTS
    district: {name: "上海市{区}建设和管理委员会", short_name: "{区}建设管理委"}
  - role: jtw
    name: 上海市交通委员会
    short_name: 市交通委
    kind: functional_department
    enforcement: "yes"
    district: {name: "上海市{区}交通委员会", short_name: "{区}交通委"}
  - role: gaj
    name: 上海市公安局
    short_name: 市公安局
    kind: police
    enforcement: "yes"
    district: {name: "上海市公安局{区}分局", short_name: "{区}公安分局"}
districts:
  - code: huangpu
    name: 黄浦区
    short_name: 黄浦
    HELD
  - code: minhang
    name: 闵行区
    short_name: 闵行
"""

RULES = {
    "assign/a.yaml": """
        stage: assign
        rules:
          - {id: a.dust, title: 扬尘, cite: 第一条, when: {category: dust}, lead: zjw}
          - {id: a.traffic, title: 交通, cite: 第二条, when: {category: traffic}, lead: jtw}
          - {id: a.cross, title: 跨区, cite: 第三条, when: {category: cross}, lead: sh.sthj}
        """,
    "route/r.yaml": """
        stage: route
        rules:
          - id: r.uncooperative
            title: 配合不力向同级党委和政府报告
            cite: （十）
            when: {status: resolved, facts.uncooperative: true}
            obligation:
              - {what: 报告, to: [$lead.leadership]}
          - id: r.annual
            title: 年度专题报告
            cite: （十三）
            when: {facts.annual: true}
            obligation:
              - {what: 年度专题报告, to: [$lead.leadership], copy: [$lead.supervisor, $lead.sthj]}
          - id: r.crime
            title: 移送公安
            cite: （十八）
            when: {facts.crime: true}
            transfer:
              - {to: $lead.gaj, reason: 涉嫌犯罪}
          - id: r.unassigned
            title: 无牵头
            cite: （七）
            when: {status: unassigned}
            escalate: {to: [party, gov]}
        """,
}


def rulebook(make_rulebook, reports: str = "", held: str = ""):
    org = ORG.replace("REPORTS", reports).replace("HELD", held)
    return make_rulebook({"org/org.yaml": org, **RULES}, with_org=False)


def resolve(path, **matter) -> object:
    with Engine.from_directory(path) as engine:
        return engine.resolve({"id": "m", "title": "事项", **matter})


def ids(departments) -> list[str]:
    return [d.id for d in departments]


def test_leadership_follows_reports_to_edges_and_removing_one_changes_the_report(make_rulebook):
    matter = {"district": "闵行区", "category": "dust", "facts": {"uncooperative": True}}
    default = resolve(rulebook(make_rulebook), **matter)
    assert ids(default.obligations[0].to) == ["minhang.party", "minhang.gov"]
    # the org data now says the 建设管理委 reports to the 政府 only: one reports_to edge fewer
    fewer = resolve(rulebook(make_rulebook, reports="reports_to: [gov]"), **matter)
    assert ids(fewer.obligations[0].to) == ["minhang.gov"]


def test_leadership_is_the_leads_level_not_the_matters(make_rulebook):
    """（十）: a municipal lead of a district matter reports to 市委、市政府, not to 闵行区委."""
    r = resolve(rulebook(make_rulebook), district="闵行区", category="cross", facts={"uncooperative": True})
    assert r.lead.id == "sh.sthj"
    assert ids(r.obligations[0].to) == ["sh.party", "sh.gov"]


def test_supervisor_is_the_body_that_guides_the_lead_and_same_level_role(make_rulebook):
    r = resolve(rulebook(make_rulebook), district="闵行区", category="dust", facts={"annual": True})
    assert ids(r.obligations[0].to) == ["minhang.party", "minhang.gov"]
    assert ids(r.obligations[0].copy_to) == ["sh.zjw", "minhang.sthj"]


def test_a_municipal_lead_has_no_supervisor(make_rulebook):
    r = resolve(rulebook(make_rulebook), category="cross", facts={"annual": True})
    assert ids(r.obligations[0].copy_to) == ["sh.sthj"]


def test_transfer_goes_to_the_same_level_police_of_the_lead(make_rulebook):
    path = rulebook(make_rulebook)
    assert ids(t.to for t in resolve(path, district="闵行区", category="dust", facts={"crime": True}).transfers) \
        == ["minhang.gaj"]
    assert ids(t.to for t in resolve(path, district="闵行区", category="cross", facts={"crime": True}).transfers) \
        == ["sh.gaj"]
    # no lead: the relation is taken at the matter's own level
    assert ids(t.to for t in resolve(path, district="闵行区", facts={"crime": True}).transfers) == ["minhang.gaj"]


def test_held_function_is_found_through_its_edge(make_rulebook):
    """黄浦 has no 交通委 in this data: the 建设管理委 holds the function (a holds_function_of edge)."""
    path = rulebook(make_rulebook, held="held_by: {jtw: zjw}")
    r = resolve(path, district="黄浦区", category="traffic", facts={"annual": True})
    assert r.lead.id == "huangpu.zjw"
    assert ids(r.obligations[0].copy_to) == ["sh.zjw", "huangpu.sthj"]
    assert resolve(path, district="闵行区", category="traffic").lead.id == "minhang.jtw"


def test_escalation_carries_its_graph_path(make_rulebook):
    r = resolve(rulebook(make_rulebook), district="闵行区", category="nothing")
    assert r.status == "unassigned"
    assert [(h.source, h.type, h.target) for h in r.escalation.path] == [
        (None, "in_jurisdiction", "minhang.party"), (None, "in_jurisdiction", "minhang.gov")]


def test_unknown_relation_is_reported_by_check(make_rulebook):
    files = dict(RULES)
    files["route/r.yaml"] = files["route/r.yaml"].replace("$lead.supervisor", "$lead.boss")
    path = make_rulebook({"org/org.yaml": ORG.replace("REPORTS", "").replace("HELD", ""), **files}, with_org=False)
    _, diagnostics = check_rulebook(path)
    (problem,) = [d for d in diagnostics if d.code == "E314"]
    assert "boss" in problem.message and problem.location.line > 1


@pytest.mark.parametrize("reports", ["reports_to: [nobody]"])
def test_unknown_role_in_reports_to_is_reported(make_rulebook, reports):
    _, diagnostics = check_rulebook(rulebook(make_rulebook, reports=reports))
    assert [d.code for d in diagnostics if d.severity == "error"] == ["E206"]


def test_shipped_rulebook_reports_uncooperative_assistants_at_the_leads_level(default_engine):
    r = default_engine.resolve({"id": "x", "title": "跨区污染纠纷，配合部门推进不力", "district": "闵行区",
                                "category": "cross_district_dispute", "facts": {"assist_uncooperative": True}})
    report = next(o for o in r.obligations if o.to)
    assert r.lead.id == "sh.sthj" and ids(report.to) == ["sh.party", "sh.gov"]

