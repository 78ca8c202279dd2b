"""explain.py: memo-grade conclusions (issue 10, findings 10, 11 and 13) — 推定 / 有争议 in the conclusion sentence and
in the CSV/XLSX column, no internal source numbers in citations, and `--lang en` English throughout (what the
program words; what legal staff wrote and the bodies' Chinese names stay as written)."""
from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from conftest import RULES
from ecorules.citations import SOURCE_NUMBER, parse_citation
from ecorules.cli import main
from ecorules.explain import cite_en, explain_lines, explanation_text, reliability
from ecorules.io.columns import RESULT_COLUMNS, result_cells

DAY = "2025-06-01"
CJK = re.compile(r"[\u3400-\u9fff\uff08\uff09\u3001\uff1a\uff1b\u3002\u201c\u201d\u300a\u300b\uff3b\uff3d]")
DISPUTED = {"id": "d", "title": "夜间施工噪声扰民", "district": "黄浦区", "category": "construction_noise", "as_of": DAY}
INFERRED_RULE = {"id": "i", "title": "高架道路沿线加装声屏障，降低交通噪声", "source": "policy", "as_of": DAY}
PLAIN = {"id": "p", "title": "某化工企业废气超标排放", "category": "industrial_air_emission", "as_of": DAY}


def column(resolution, name):
    return result_cells(resolution, 2)[RESULT_COLUMNS.index(name)]


# ---------------------------------------------------------------- 推定 / 有争议 in the conclusion itself
def test_a_disputed_rule_says_so_in_the_conclusion_sentence_and_the_column(default_engine):
    r = default_engine.resolve(DISPUTED)
    assert reliability(r) == "disputed"
    assert "牵头部门有争议：按规则 noise.construction" in r.explanation
    assert "由黄浦区建设管理委牵头，该依据的解读存在争议" in r.explanation
    assert column(r, "结论可靠性") == "有争议"
    assert "Lead disputed: rule noise.construction" in explanation_text(r, default_engine.rulebook, lang="en")


def test_an_inferred_rule_says_presumed_and_why(default_engine):
    r = default_engine.resolve(INFERRED_RULE)
    assert r.status == "resolved" and not r.lead.inferred
    assert reliability(r) == "inferred" and column(r, "结论可靠性") == "推定"
    assert f"推定由{r.lead.short_name}牵头" in r.explanation
    assert "推定的理由：规则" in r.explanation and "是推断" in r.explanation


def test_an_inferred_body_says_presumed(default_engine):
    r = default_engine.resolve({"id": "b", "title": "工地扬尘", "district": "徐汇区", "category": "construction_dust",
                                "as_of": DAY})
    assert r.lead.inferred
    assert "推定由徐汇区建设管理委牵头" in r.explanation
    assert "机构设置或名称系推定，须核实" in r.explanation
    lines = explain_lines(r, default_engine.rulebook)
    assert lines[2].endswith("［推定］")


def test_a_conclusion_on_a_statute_and_a_verified_body_says_neither(default_engine):
    r = default_engine.resolve(PLAIN)
    assert reliability(r) is None and column(r, "结论可靠性") == ""
    assert "由市生态环境局牵头，依据《上海市大气污染防治条例》" in r.explanation
    assert "推定" not in r.explanation and "有争议" not in r.explanation


def test_a_route_effect_resting_on_an_inference_is_marked(default_engine):
    r = default_engine.resolve({"id": "t", "title": "离任审计中发现企业违法排污线索", "category": "natural_resource_asset_audit",
                                "source": "inspection", "facts": {"case_clue": True}, "as_of": DAY})
    [transfer] = [t for t in r.transfers if t.rule == "route.transfer.case-clue"]
    assert f"移交{transfer.to.short_name}：" in r.explanation
    assert re.search(r"移交[^。]*（依据[^。]*）（推定）。", r.explanation)


# ---------------------------------------------------------------- citations never show internal source numbers
def test_no_citation_shows_an_internal_source_number(default_engine):
    assert not [r.id for r in default_engine.rulebook.rules if SOURCE_NUMBER.search(r.cite)]
    r = default_engine.resolve({"id": "e", "title": "生态环境损害赔偿磋商", "category": "eco_damage_compensation",
                                "as_of": DAY})
    text = "\n".join(explain_lines(r, default_engine.rulebook, quote=True))
    assert not re.search(r"《[^》]*S\d+[^》]*》", text)
    assert not SOURCE_NUMBER.search(text)


def test_source_numbers_are_dropped_with_their_bracket():
    from ecorules.rule import full_cite
    assert full_cite('上海市生态环境局"三定"规定（据S17基本情况摘要）', "主要职责（二）") == \
        '《上海市生态环境局"三定"规定》主要职责（二）'
    assert full_cite("上海市大气污染防治条例", "第九十八条") == "《上海市大气污染防治条例》第九十八条"


# ---------------------------------------------------------------- English throughout
def allowed_data(rulebook) -> list[str]:
    """What the rulebook's authors wrote and the bodies' names: kept as written in English output."""
    words = set()
    for node in rulebook.org.graph.nodes:
        department = rulebook.org.department(node)
        words.update((department.name, department.short_name))
    for rule in rulebook.rules:
        if rule.escalate:
            words.update(rule.escalate.steps)
        words.update(t.reason for t in rule.transfers)
        words.update(text for o in rule.obligations for text in (o.what, o.due))
        words.update(piece.text for piece in parse_citation(rule.cite) if piece.reference is None)
    return sorted((w for w in words if w), key=len, reverse=True)


def leftover(line: str, words: list[str]) -> str:
    line = re.sub(r"《[^》]*》", "", line)            # the titles of the documents cited
    for word in words:
        line = line.replace(word, "")
    return line


def test_explain_in_english_has_no_chinese_wording_of_its_own(default_engine, fixture_matters):
    rulebook = default_engine.rulebook
    words = allowed_data(rulebook)
    found = {}
    for matter in fixture_matters:
        r = default_engine.resolve({**matter, "as_of": matter.get("as_of") or DAY})
        if r.status == "invalid":
            continue
        for line in explain_lines(r, rulebook, lang="en", why_not="sthj"):
            rest = leftover(line, words)
            if CJK.search(rest):
                found.setdefault(line, matter["id"])
    assert not found, list(found.items())[:5]


def test_english_glosses_bodies_from_the_org_data(default_engine):
    r = default_engine.resolve(DISPUTED)
    lines = explain_lines(r, default_engine.rulebook, lang="en")
    assert lines[0] == "Matter d: lead found"
    assert lines[2] == ("Lead: 上海市黄浦区建设和管理委员会 (Huangpu District Construction and Management Commission) "
                        "[huangpu.zjw] — disputed")
    assert default_engine.rulebook.org.name_en("huangpu.party") == "CPC Huangpu District Committee"
    assert default_engine.rulebook.org.name_en("sh.sthj") == "Shanghai Municipal Bureau of Ecology and Environment"


def test_english_warnings_and_outcomes(default_engine):
    r = default_engine.resolve({"id": "w", "title": "张江某工地扬尘", "category": "construction_dust", "as_of": DAY})
    lines = explain_lines(r, default_engine.rulebook, lang="en")
    assert "Warning W401: no district given; the district (pudong) was read from a place in the title — check it" in lines


def test_english_outranked_by_a_list(sample_engine):
    r = sample_engine.resolve({"id": "s", "title": "饭店油烟扰民", "district": "嘉定区", "as_of": DAY})
    lines = explain_lines(r, sample_engine.rulebook, lang="en")
    assert any(line.endswith("→ outranked by the jurisdiction's published list, not adopted") for line in lines)
    assert "This list is a sample, not a published document" in lines[-1]


def test_citations_in_english_number_articles_in_english():
    assert cite_en("《上海市大气污染防治条例》第五条第四款、第九十八条第一款；实施意见（五）") == \
        "《上海市大气污染防治条例》 Art. 5(4), Art. 98(1); 《实施意见》 item (5)"


def test_explain_cli_in_english(tmp_path):
    result = CliRunner().invoke(main, ["explain", "--title", "工地扬尘", "--district", "黄浦区", "--category",
                                       "construction_dust", "--as-of", DAY, "--lang", "en", "--quote", "--why-not",
                                       "黄浦区生态环境局"])
    assert result.exit_code == 0, result.output
    assert "Summary: Category: construction_dust. Presumed lead: 黄浦区建设管理委 (Huangpu District" in result.output
    assert "Why not 黄浦区生态环境局 (Huangpu District Bureau of Ecology and Environment): " in result.output
    assert "为何" not in result.output and "依据" not in result.output and "结论" not in result.output


def test_classification_ties_are_worded_in_both_languages(default_engine, fixture_matters):
    matter = next(m for m in fixture_matters if m["id"] == "fx-176")
    r = default_engine.resolve(matter)
    assert "分类有歧义：facts.land_type 可能为 river_side、public_green_land，未采用任何一个。" in r.explanation
    english = explanation_text(r, default_engine.rulebook, lang="en")
    assert "Ambiguous classification: facts.land_type could be river_side or public_green_land; neither was taken." \
        in english


def test_the_column_and_the_conclusion_sentence_never_disagree(default_engine, fixture_matters):
    seen = set()
    for matter in fixture_matters:
        r = default_engine.resolve(matter)
        word = column(r, "结论可靠性")
        seen.add(word)
        assert (word == "推定") == ("推定由" in r.explanation), r.id
        assert (word == "有争议") == ("牵头部门有争议：" in r.explanation), r.id
    assert seen == {"", "推定", "有争议"}


def test_an_out_of_scope_matter_is_not_said_to_lack_a_lead(make_rulebook):
    from ecorules import Engine
    root = make_rulebook({"route/scope.yaml": """
        stage: route
        source: 上海市推动职能部门做好生态环境保护工作的实施意见
        rules:
          - id: scope.courier
            title: 快递员态度问题不属于生态环境保护事项
            cite: （八）
            when: {title: {contains: 快递员}}
            status: out_of_scope
        """})
    with Engine.from_directory(root) as engine:
        r = engine.resolve({"id": "o", "title": "快递员态度恶劣", "as_of": DAY})
        assert r.status == "out_of_scope"
        assert "不属于生态环境保护事项" in r.explanation and "尚未明确牵头部门" not in r.explanation
        assert "Not an environmental-protection matter" in explanation_text(r, engine.rulebook, lang="en")


def test_an_invalid_matter_says_what_is_wrong_in_english(default_engine):
    r = default_engine.resolve({"id": "x", "title": "工地扬尘", "district": "火星区"})
    lines = explain_lines(r, default_engine.rulebook, lang="en")
    assert lines[0] == "Matter x: invalid matter"
    assert lines[1].startswith("Error: the district cannot be read, or contradicts itself (field district). As reported: ")
