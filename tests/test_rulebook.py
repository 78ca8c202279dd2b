"""ecorules.rulebook (loading the shipped rulebook, stamps, warnings) and ecorules.orggraph on the
shipped org data (rules/org/shanghai.yaml)."""
from __future__ import annotations

import shutil

import networkx as nx
import pytest
import yaml

from ecorules.rule import WORD_READING, WORD_READING_SHOWN

from conftest import ORG_FILE, RULES, write_rulebook
from ecorules import Diagnostic, RulebookError, check_rulebook, load_rulebook
from ecorules.orggraph import DISTRICT_CODES, MUNICIPAL

SHIPPED_ORG = yaml.safe_load(ORG_FILE.read_text(encoding="utf-8"))
SHIPPED_DISTRICTS = {d["code"]: d for d in SHIPPED_ORG["districts"]}

W301_RULE = """
    stage: assign
    rules:
      - id: dev.approval
        title: 谁审批谁负责
        cite: （五）
        when: {category: construction_dust}
        lead: $approved_by
"""
OK_RULE = """
    stage: assign
    rules:
      - id: air.dust
        title: 工地扬尘
        cite: 第九十八条
        when: {category: construction_dust}
        lead: zjw
        assist: [sthj]
"""


def errors(diagnostics):
    return [d for d in diagnostics if d.severity == "error"]


def shown(diagnostics) -> str:
    return "\n".join(d.format() for d in diagnostics)


# ================================================================ the shipped rulebook
@pytest.fixture(scope="module")
def shipped():
    rulebook, diagnostics = check_rulebook(RULES)
    assert not errors(diagnostics), "rules/ must load without errors:\n" + shown(errors(diagnostics))
    assert rulebook is not None
    return rulebook


def test_shipped_rulebook_has_no_errors():
    rulebook, diagnostics = check_rulebook(RULES)
    assert not errors(diagnostics), shown(errors(diagnostics))
    assert rulebook is not None
    assert load_rulebook(RULES).hash == rulebook.hash


def test_shipped_rulebook_metadata(shipped):
    meta = yaml.safe_load((RULES / "rulebook.yaml").read_text(encoding="utf-8"))["rulebook"]
    assert shipped.name == meta["name"]
    assert shipped.version == str(meta["version"])
    assert len(shipped.hash) == 64 and int(shipped.hash, 16) >= 0
    assert any(f.endswith("org/shanghai.yaml") for f in shipped.files)
    assert shipped.rules, "the shipped rulebook has rules"
    assert {r.stage for r in shipped.rules} <= {"classify", "assign", "route"}


def test_every_shipped_rule_has_a_cite(shipped):
    raw_cites = {}
    for path in RULES.rglob("*.yaml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and "rules" in data:
            for spec in data["rules"]:
                raw_cites[spec["id"]] = (spec.get("cite"), spec.get("source") or data.get("source"))
    assert set(raw_cites) == {r.id for r in shipped.rules}
    for rule in shipped.rules:
        cite, source = raw_cites[rule.id]
        assert isinstance(cite, str) and cite.strip(), f"{rule.id} has no cite"
        if cite == WORD_READING:   # a classify rule: a reading of words, shown as such, no source
            assert rule.stage == "classify" and rule.cite == WORD_READING_SHOWN, rule.id
            continue
        assert rule.cite.endswith(cite), rule.id
        if source:
            assert "《" in rule.cite, f"{rule.id}: the full citation names its source ({rule.cite})"


def test_shipped_rule_positions_point_at_their_id(shipped):
    for rule in shipped.rules:
        lines = (RULES / rule.file).read_text(encoding="utf-8").splitlines()
        assert f"id: {rule.id}" in lines[rule.line - 1], f"{rule.file}:{rule.line} is not rule {rule.id}"
    assert [r.order for r in shipped.rules] == list(range(len(shipped.rules)))


def test_shipped_rule_ids_are_unique(shipped):
    ids = [r.id for r in shipped.rules]
    assert len(ids) == len(set(ids))


# ================================================================ the stamp hash
def test_stamp_hash_is_stable_and_follows_content(make_rulebook, tmp_path):
    path = make_rulebook({"assign/air.yaml": OK_RULE})
    first = load_rulebook(path).hash
    assert load_rulebook(path).hash == first                      # deterministic

    target = path / "assign" / "air.yaml"
    original = target.read_text(encoding="utf-8")
    target.write_text(original + "# 只改了一行注释\n", encoding="utf-8")
    changed = load_rulebook(path).hash
    assert changed != first                                       # even a comment is content

    target.write_text(original, encoding="utf-8")
    assert load_rulebook(path).hash == first                      # back to the same bytes

    target.rename(path / "assign" / "air2.yaml")
    assert load_rulebook(path).hash != first                      # the file's name is content too
    (path / "assign" / "air2.yaml").rename(target)

    (path / "README.txt").write_text("不是 YAML", encoding="utf-8")
    assert load_rulebook(path).hash == first                      # only rulebook files count

    copy = tmp_path / "elsewhere" / "rb"
    shutil.copytree(path, copy)
    assert load_rulebook(copy).hash == first                      # independent of where it lives


def test_stamp_hash_of_the_shipped_rulebook_changes_when_a_file_changes(tmp_path, shipped):
    copy = tmp_path / "rules"
    shutil.copytree(RULES, copy)
    assert load_rulebook(copy).hash == shipped.hash
    target = copy / "org" / "shanghai.yaml"
    target.write_text(target.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
    assert load_rulebook(copy).hash != shipped.hash


# ================================================================ warnings and strict mode
def test_warnings_are_kept_apart_from_errors(make_rulebook):
    path = make_rulebook({"assign/approval.yaml": W301_RULE})
    rulebook, diagnostics = check_rulebook(path)
    assert rulebook is not None
    assert [(d.code, d.severity, d.rule_id) for d in diagnostics] == [("W301", "warning", "dev.approval")]
    loaded = load_rulebook(path)                                  # warnings do not stop loading
    assert [d.code for d in loaded.warnings] == ["W301"]
    assert loaded.warnings[0].location.file.endswith("assign/approval.yaml")
    assert loaded.warnings[0].location.line == 7


def test_strict_turns_a_warning_into_an_error(make_rulebook):
    path = make_rulebook({"assign/approval.yaml": W301_RULE})
    with pytest.raises(RulebookError) as caught:
        load_rulebook(path, strict=True)
    assert [d.code for d in caught.value.diagnostics] == ["W301"]
    assert "W301 [dev.approval]" in str(caught.value)
    assert caught.value.exit_code == 1


def test_a_clean_rulebook_has_no_warnings(make_rulebook):
    loaded = load_rulebook(make_rulebook({"assign/air.yaml": OK_RULE}), strict=True)
    assert loaded.warnings == ()
    assert [r.id for r in loaded.rules] == ["air.dust"]


def test_rulebook_error_lists_every_problem_sorted_with_a_summary(make_rulebook):
    path = make_rulebook({
        "b.yaml": "stage: assign\nrules:\n  - {id: b, title: t, cite: c, when: always, lead: sthjj}\n",
        "a.yaml": "stage: assign\nrules:\n  - {id: a, title: t, cite: c, when: always, lead: zjww}\n",
    })
    with pytest.raises(RulebookError) as caught:
        load_rulebook(path)
    diagnostics = caught.value.diagnostics
    assert [d.code for d in diagnostics] == ["E201", "E201"]
    assert [d.rule_id for d in diagnostics] == ["a", "b"]          # sorted by file, line, col
    assert list(diagnostics) == sorted(diagnostics, key=Diagnostic.sort_key)
    message = str(caught.value).splitlines()
    assert message[:2] == [d.format() for d in diagnostics]
    assert message[2].startswith("2 error(s), 0 warning(s) in 2 file(s)")


def test_missing_directory_is_e100(tmp_path):
    rulebook, diagnostics = check_rulebook(tmp_path / "nope")
    assert rulebook is None
    assert [d.code for d in diagnostics] == ["E100"]
    with pytest.raises(RulebookError):
        load_rulebook(tmp_path / "nope")


def test_too_many_range_tests_in_one_rule_is_e310(make_rulebook):
    fields = "\n".join(f"      facts.x{i}: {{gt: {i}}}" for i in range(61))
    path = make_rulebook({"a.yaml": f"stage: assign\nrules:\n  - id: a.wide\n    title: t\n    cite: c\n"
                                    f"    lead: sthj\n    when:\n{fields}\n"})
    _, diagnostics = check_rulebook(path)
    assert [(d.code, d.rule_id) for d in diagnostics] == [("E310", "a.wide")]


def test_empty_yaml_files_are_ignored(make_rulebook):
    path = make_rulebook({"assign/air.yaml": OK_RULE, "assign/placeholder.yaml": "# 待补充\n"})
    assert [r.id for r in load_rulebook(path).rules] == ["air.dust"]


def test_rulebook_without_metadata_is_named_after_its_directory(make_rulebook):
    rulebook = load_rulebook(make_rulebook({"assign/air.yaml": OK_RULE}))
    assert rulebook.name.startswith("rb") and rulebook.version == "0"


# ================================================================ once engine bugs, now regression tests
TINY_ORG = """
    departments:
      - {role: party, name: 中国共产党上海市委员会, short_name: 市委, kind: party_committee, enforcement: "no",
         district: {name: "中共上海市{区}委员会", short_name: "{区}委"}}
      - {role: gov, name: 上海市人民政府, short_name: 市政府, kind: government, enforcement: limited,
         district: {name: "上海市{区}人民政府", short_name: "{区}政府"}}
      - {role: sthj, name: 上海市生态环境局, short_name: 市生态环境局, kind: functional_department,
         enforcement: "yes", district: {name: "上海市{区}生态环境局", short_name: "{区}生态环境局"}}
    districts:
      - {code: huangpu, name: 黄浦区, short_name: 黄浦}
      - {code: pudong, name: 浦东新区, short_name: 浦东}
"""
CATEGORIES = "categories:\n  - {id: construction_dust, name: 施工扬尘}\n  - {id: odor, name: 异味}\n"


def tiny_org(old: str, new: str) -> str:
    assert old in TINY_ORG
    return TINY_ORG.replace(old, new)


def rule_with(line: str, stage: str = "assign", effect: str = "lead: sthj") -> str:
    return f"stage: {stage}\nrules:\n  - id: r\n    title: t\n    cite: c\n    {effect}\n    {line}\n"


# Each case: files of a broken rulebook and the line of the diagnostic the author needs.
# Today each one raises out of check_rulebook (a traceback for the user).
NEVER_RAISES = {
    "impossible-date": ({"a.yaml": rule_with("effective: {from: 2024-02-30}")}, "a.yaml", 7),
    "category-as-list": ({"a.yaml": rule_with("when: {category: [odor, construction_dust]}"),
                          "categories.yaml": CATEGORIES}, "a.yaml", 7),
    "category-in-with-mapping": ({"a.yaml": rule_with("when: {category: {in: [odor, {x: 1}]}}"),
                                  "categories.yaml": CATEGORIES}, "a.yaml", 7),
    "category-not-list": ({"a.yaml": rule_with("when: {category: {not: [odor]}}"),
                           "categories.yaml": CATEGORIES}, "a.yaml", 7),
    "approved-by-with-number-key": ({"a.yaml": rule_with("when: {any: [{1: x}]}", effect="lead: $approved_by")},
                                    "a.yaml", 7),
    "org-template-unknown-placeholder": ({"org.yaml": tiny_org('"{区}生态环境局"}', '"{区名}生态环境局"}')},
                                         "org.yaml", 7),
    "org-template-unclosed-brace": ({"org.yaml": tiny_org('"{区}生态环境局"}', '"{区生态环境局"}')},
                                    "org.yaml", 7),
    "org-party-without-district-body": ({"org.yaml": tiny_org(
        'district: {name: "中共上海市{区}委员会", short_name: "{区}委"}', "district: none")}, "org.yaml", 3),
    "org-gov-shared": ({"org.yaml": tiny_org(
        'district: {name: "上海市{区}人民政府", short_name: "{区}政府"}', "district: shared")}, "org.yaml", 5),
}


@pytest.mark.parametrize("name", sorted(NEVER_RAISES))
def test_check_rulebook_never_raises(name, tmp_path):
    files, file, line = NEVER_RAISES[name]
    with_org = "org.yaml" not in files
    if not with_org:
        files = {**files, "a.yaml": rule_with("when: {title: 扬尘}")}
    path = write_rulebook(tmp_path / "rb", files, with_org=with_org)
    rulebook, diagnostics = check_rulebook(path)
    assert rulebook is None
    assert any(d.location.file.endswith(file) and d.location.line == line for d in errors(diagnostics)), \
        shown(diagnostics)


def _only(make_rulebook, files) -> Diagnostic:
    _, diagnostics = check_rulebook(make_rulebook(files))
    assert len(diagnostics) == 1, shown(diagnostics)
    return diagnostics[0]


def test_unknown_proposer_in_a_rule_test_is_reported(make_rulebook):
    d = _only(make_rulebook, {"a.yaml": OK_RULE, "tests/t.yaml": """
        tests:
          - name: 上报
            matter: {id: t1, title: 工地扬尘, district: 黄浦区}
            expect:
              escalation: {to: [party], proposer: sthjj}
    """})
    assert d.code == "E201" and "sthjj" in d.message and d.location.line == 5


def test_date_with_time_message_is_for_legal_staff(make_rulebook):
    d = _only(make_rulebook, {"a.yaml": rule_with("effective: {from: 2024-12-01T10:00:00}")})
    assert d.code == "E105" and d.location.line == 7
    assert "datetime.datetime" not in d.message and "Datetimes provided" not in d.message


def test_number_test_with_text_quotes_the_value(make_rulebook):
    d = _only(make_rulebook, {"a.yaml": rule_with("when: {facts.pm: {gt: 1e-05}}")})
    assert d.code == "E105"
    assert "1e-05" in d.message


def test_tiny_plain_decimal_is_not_told_to_be_a_plain_decimal(make_rulebook):
    d = _only(make_rulebook, {"a.yaml": rule_with("when: {facts.pm: {gt: 0.00001}}")})
    assert d.code == "E309"
    assert "写成普通小数" not in d.message + (d.suggestion or "")


def test_empty_when_value_message_has_no_python_type_names(make_rulebook):
    d = _only(make_rulebook, {"a.yaml": rule_with("when: {title: }")})
    assert d.code == "E105"
    assert "NoneType" not in d.message


def test_mixed_types_message_names_the_other_rule(make_rulebook):
    _, diagnostics = check_rulebook(make_rulebook({
        "a.yaml": "stage: assign\nrules:\n  - {id: air.large, title: t, cite: c, lead: zjw, when: {facts.area: 500}}\n",
        "b.yaml": "stage: assign\nrules:\n  - {id: air.small, title: t, cite: c, lead: zjw, when: {facts.area: \"5\"}}\n",
    }))
    assert [d.code for d in diagnostics] == ["E306"]
    assert "air.large" in diagnostics[0].message + (diagnostics[0].suggestion or "")


def test_bare_yes_in_org_data_suggests_quotes(tmp_path):
    org = tiny_org('enforcement: "yes"', "enforcement: yes")
    _, diagnostics = check_rulebook(write_rulebook(tmp_path / "rb", {"org.yaml": org}, with_org=False))
    enforcement = [d for d in diagnostics if "enforcement" in d.message]
    assert len(enforcement) == 1
    assert '"yes"' in enforcement[0].message + (enforcement[0].suggestion or "")


def test_incomplete_district_template_is_one_diagnostic(tmp_path):
    org = tiny_org('short_name: "{区}生态环境局"}', "}")
    _, diagnostics = check_rulebook(write_rulebook(tmp_path / "rb", {"org.yaml": org}, with_org=False))
    org_problems = [d for d in diagnostics if d.location.file.endswith("org.yaml")]
    assert [d.code for d in org_problems] == ["E106"]


# ================================================================ the org graph on the shipped org data
@pytest.fixture(scope="module")
def org(tmp_path_factory):
    """The org graph of rules/org/shanghai.yaml alone (independent of the rule files)."""
    path = write_rulebook(tmp_path_factory.mktemp("org") / "rb", {})
    return load_rulebook(path).org


def edges(org, kind):
    return {(u, v) for u, v, t in org.graph.edges(data="type") if t == kind}


def test_sixteen_districts(org):
    assert len(org.districts) == 16
    assert set(org.districts) == set(DISTRICT_CODES) == set(SHIPPED_DISTRICTS)
    assert org.jurisdictions == [MUNICIPAL, *org.districts]


def test_district_body_exists_with_its_names(org):
    assert org.has_node("huangpu.zjw")
    node = org.node("huangpu.zjw")
    assert (node["role"], node["jurisdiction"], node["level"]) == ("zjw", "huangpu", "district")
    dept = org.department("huangpu.zjw")
    assert (dept.name, dept.short_name) == ("上海市黄浦区建设和管理委员会", "黄浦区建设管理委")
    assert org.department("pudong.gaj").name == "上海市公安局浦东分局"          # {区简} template
    assert org.department("sh.sthj").name == "上海市生态环境局"


def test_role_held_by_another_body_resolves_to_the_holder(org):
    holder = SHIPPED_DISTRICTS["huangpu"]["held_by"]["jtw"]
    assert org.resolve("jtw", "huangpu") == f"huangpu.{holder}"
    assert not org.has_node("huangpu.jtw")
    assert org.resolve("jtw", MUNICIPAL) == "sh.jtw"
    # every district, every held_by entry
    for code, district in SHIPPED_DISTRICTS.items():
        for role, holding_role in (district.get("held_by") or {}).items():
            assert org.resolve(role, code) == org.resolve(holding_role, code) is not None, (code, role)


def test_role_declared_absent_resolves_to_nothing(org):
    assert "nyncw" in SHIPPED_DISTRICTS["huangpu"]["absent"]
    assert org.resolve("nyncw", "huangpu") is None
    assert org.declared_absent("nyncw", "huangpu")
    assert not org.has_node("huangpu.nyncw")
    for code, district in SHIPPED_DISTRICTS.items():
        for role in district.get("absent") or []:
            assert org.resolve(role, code) is None, (code, role)
        if "nyncw" not in (district.get("absent") or []):
            assert org.resolve("nyncw", code) == f"{code}.nyncw"     # suburban districts keep theirs


def test_shared_and_district_only_roles(org):
    assert org.resolve("msa", "huangpu") == "sh.msa"                 # district: shared
    assert org.resolve("jiezhen", MUNICIPAL) is None                 # municipal: false
    assert org.resolve("jiezhen", "huangpu") == "huangpu.jiezhen"


@pytest.mark.parametrize("name", ["市生态环境局", "区生态环境局", "环保局", "上海市生态环境局", "sthj"])
def test_chinese_names_of_the_environment_bureau_mean_role_sthj(org, name):
    assert org.is_known(name)
    assert org.role_of(name) == "sthj"
    assert org.resolve(name, "huangpu") == "huangpu.sthj"
    assert org.resolve(name, MUNICIPAL) == "sh.sthj"


def test_node_named_is_literal(org):
    assert org.node_named("市生态环境局") == "sh.sthj"
    assert org.node_named("上海市生态环境局") == "sh.sthj"
    assert org.node_named("黄浦区生态环境局") == "huangpu.sthj"
    assert org.node_named("上海市黄浦区生态环境局") == "huangpu.sthj"
    assert org.node_named("huangpu.zjw") == "huangpu.zjw"
    assert org.node_named("火星生态环境局") is None


def test_unknown_references(org):
    assert not org.is_known("sthjj")
    assert org.role_of("sthjj") is None
    with pytest.raises(KeyError):
        org.resolve("sthjj", "huangpu")
    assert "sthj" in org.reference_names() and "市生态环境局" in org.reference_names()


@pytest.mark.parametrize("kind, example", [
    ("reports_to", ("huangpu.sthj", "huangpu.gov")),
    ("reports_to", ("huangpu.gov", "huangpu.party")),
    ("reports_to", ("huangpu.party", "sh.party")),
    ("guides", ("sh.sthj", "huangpu.sthj")),
    ("holds_function_of", ("huangpu.zjw", "sh.jtw")),
    ("transfers_to", ("sh.sthj", "sh.gaj")),
    ("transfers_to", ("huangpu.sthj", "huangpu.gaj")),
])
def test_edges_of_each_type(org, kind, example):
    assert example in edges(org, kind)


def test_edge_types_are_only_the_four_documented_ones(org):
    kinds = {t for _, _, t in org.graph.edges(data="type")}
    assert kinds == {"reports_to", "guides", "holds_function_of", "transfers_to"}
    assert org.graph.edges["huangpu.zjw", "sh.jtw"]["role"] == "jtw"
    # a guides edge always joins a municipal body to its own district counterpart
    for upper, lower in edges(org, "guides"):
        assert upper.startswith("sh.") and org.node(upper)["role"] == org.node(lower)["role"]


def test_reports_to_is_acyclic_and_ends_at_the_city_leadership(org):
    reporting = nx.DiGraph(sorted(edges(org, "reports_to")))
    assert nx.is_directed_acyclic_graph(reporting)
    assert org.reports_to("sh.party") == []
    assert org.reports_to("huangpu.sthj") == ["huangpu.gov", "huangpu.party"]
    chain = org.escalation_chain("huangpu.sthj")
    assert chain == ["huangpu.gov", "huangpu.party", "sh.gov", "sh.party"]
    for node in org.graph:
        chain = org.escalation_chain(node)
        assert len(chain) == len(set(chain)) and node not in chain


def test_leadership_and_counterparts(org):
    assert org.leadership("huangpu") == ["huangpu.party", "huangpu.gov"]
    assert org.counterpart("sh.sthj", "huangpu") == "huangpu.sthj"
    assert org.counterpart("sh.jtw", "huangpu") == "huangpu.zjw"
    assert org.is_municipal_functional("sh.sthj") and not org.is_municipal_functional("sh.gov")


@pytest.mark.parametrize("given, code", [
    ("黄浦区", "huangpu"), ("黄浦", "huangpu"), ("huangpu", "huangpu"), (" 黄浦区 ", "huangpu"),
    ("浦东新区", "pudong"), ("浦东", "pudong"), (None, MUNICIPAL), ("火星区", None),
])
def test_jurisdiction_of(org, given, code):
    assert org.jurisdiction_of(given) == code


def test_org_graph_nodes_are_consistent(org):
    for node, data in org.graph.nodes(data=True):
        assert node == f"{data['jurisdiction']}.{data['role']}"
        assert data["role"] in org.roles
        assert data["level"] == ("municipal" if data["jurisdiction"] == MUNICIPAL else "district")
    for code in org.districts:
        assert org.has_node(f"{code}.party") and org.has_node(f"{code}.gov")


def test_e100_suggestion_names_the_argument_as_well_as_rules(tmp_path):
    """Was: "用 --rules 指定规则库目录" — but `check`, `test` and `diff` take the directory as an argument."""
    _, diagnostics = check_rulebook(tmp_path / "nope")
    assert "check / test / diff 的参数" in diagnostics[0].suggestion and "--rules" in diagnostics[0].suggestion


def test_when_always_is_the_spelling_for_every_matter_and_missing_when_is_e305(make_rulebook):
    path = make_rulebook({"a.yaml": """
        stage: assign
        rules:
          - {id: a.all, title: t, cite: c, when: always, lead: sthj, priority: 1}
          - {id: a.none, title: t, cite: c, lead: zjw, priority: 999}
        """, "b.yaml": """
        stage: assign
        rules:
          - {id: b.typo, title: t, cite: c, when: allways, lead: zjw}
        """})
    _, diagnostics = check_rulebook(path)
    assert [(d.code, d.rule_id) for d in diagnostics if d.code == "E305"] == [("E305", "a.none")]
    typo = [d for d in diagnostics if d.code == "E105"]
    assert typo and "always" in (typo[0].suggestion or "")


def test_overrides_cycles_are_e312_once_per_cycle(make_rulebook):
    path = make_rulebook({"a.yaml": """
        stage: assign
        rules:
          - {id: a, title: t, cite: c, when: {category: x}, lead: sthj, overrides: [b]}
          - {id: b, title: t, cite: c, when: {category: x}, lead: zjw, overrides: [a, c]}
          - {id: c, title: t, cite: c, when: {category: x}, lead: lhsr}
          - {id: d, title: t, cite: c, when: {category: x}, lead: lhsr, overrides: [e]}
          - {id: e, title: t, cite: c, when: {category: x}, lead: lhsr, overrides: [f]}
          - {id: f, title: t, cite: c, when: {category: x}, lead: lhsr, overrides: [d]}
        """})
    _, diagnostics = check_rulebook(path)
    cycles = [d for d in diagnostics if d.code == "E312"]
    assert [(d.rule_id, d.message.split("：")[1].split("（")[0]) for d in cycles] == [
        ("a", "a → b → a"), ("d", "d → e → f → d")]


def test_each_when_is_parsed_once_and_read_by_compiler_and_checks(make_rulebook):
    from ecorules.conditions import Condition
    path = make_rulebook({"a.yaml": """
        stage: assign
        rules:
          - {id: a, title: t, cite: c, when: {all: [{level: municipal}, {title: {matches: ".*油烟.*"}}]}, lead: sthj}
        """})
    rulebook = load_rulebook(path)
    rule = rulebook.rules[0]
    assert isinstance(rule.condition, Condition) and rule.condition.pinned("level") == "municipal"
    feature, = rulebook.compiled.stages["assign"].features.features
    test, = [t for t in rule.condition.field_tests() if t.op == "matches"]
    assert feature.compile() is test.pattern   # compiled once, at the parse
