"""Citations that can be checked (ecorules/citations.py, statutes.py, citecheck.py): parsing, splitting real statute texts, existence,
the check diagnostics with positions, and `explain --quote`."""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings, strategies as st

from conftest import RULES
from ecorules import check_rulebook
from ecorules.citations import Reference, cn_number, cn_numeral, parse_citation
from ecorules.citecheck import count_citations
from ecorules.statutes import Collection, quotes, split_articles
from ecorules.cli import main

STATUTES = Path(RULES) / "statutes"
ORG = Path(__file__).parent / "golden" / "diagnostics" / "14-unknown-department" / "rules" / "org.yaml"


@pytest.fixture(scope="module")
def collection():
    return Collection.from_directory(STATUTES)


def labels(text, source=None):
    return [(p.document, p.reference.label if p.reference else None) for p in parse_citation(text, source)]


# ---------------------------------------------------------------- numerals and parsing
@pytest.mark.parametrize("text, number", [("一", 1), ("十", 10), ("十二", 12), ("二十", 20), ("九十八", 98),
                                          ("一百", 100), ("一百零九", 109), ("一百一十", 110), ("一百二十三", 123),
                                          ("12", 12)])
def test_chinese_numerals_both_ways(text, number):
    assert cn_number(text) == number
    if not text.isdigit():
        assert cn_numeral(number) == text


def test_parse_articles_paragraphs_items_and_separators():
    assert labels("第五条第四款、第五十五条；第九十八条第一款", "上海市大气污染防治条例") == [
        ("上海市大气污染防治条例", "第五条第四款"), ("上海市大气污染防治条例", "第五十五条"),
        ("上海市大气污染防治条例", "第九十八条第一款")]
    assert labels("第二十二条第一款第（三）项", "x") == [("x", "第二十二条第一款第（三）项")]
    assert labels("第六十条第二项", "x") == [("x", "第六十条第（二）项")]
    assert labels("第一百零九条之一", "x") == [("x", "第一百零九条之一")]
    assert labels("第五十六条第一款、第二款", "x") == [("x", "第五十六条第一款"), ("x", "第五十六条第二款")]
    assert labels("第四十三条至第四十五条", "x") == [("x", "第四十三条"), ("x", "第四十四条"), ("x", "第四十五条")]


def test_parse_switches_document_on_titles_and_short_titles():
    pieces = parse_citation("《上海市河道管理条例》第二十二条（水务部门同意权）；实施意见（五）（统一监督管理）、（七）")
    assert [(p.document, p.reference.label) for p in pieces] == [
        ("上海市河道管理条例", "第二十二条"), ("实施意见", "（五）"), ("实施意见", "（七）")]
    assert pieces[1].start == len("《上海市河道管理条例》第二十二条（水务部门同意权）；实施意见")
    assert labels("总体要求（谁审批谁负责）；（十八）（十九）", "实施意见") == [
        ("实施意见", "总体要求"), ("实施意见", "（十八）"), ("实施意见", "（十九）")]


def test_words_that_name_no_article_are_kept_as_such():
    pieces = parse_citation("总则主管部门条款（条号未核对）", "上海市生活垃圾管理条例")
    assert [(p.reference, p.text) for p in pieces] == [(None, "总则主管部门条款（条号未核对）")]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="第条款项之至一二三四五六七八九十百零0123456789（）()《》、；，实施意见总体要求 x", max_size=40))
def test_parsing_never_fails_and_every_piece_points_into_the_text(text):
    for piece in parse_citation(text, "x"):
        assert 0 <= piece.start <= len(text)
        if piece.reference:
            piece.reference.label   # always printable


# ---------------------------------------------------------------- splitting real texts
def test_every_shipped_text_splits_into_consecutive_articles(collection):
    assert len(collection.statutes) == 31
    for statute in collection.statutes:
        numbers = [key[0] for key in statute.articles if key != (0, 0)]
        assert numbers == list(range(1, len(numbers) + 1)), statute.title
        assert statute.count > 10, statute.title


def test_article_paragraphs_and_items_of_the_air_regulation(collection):
    air = collection.lookup("《上海市大气污染防治条例》")
    assert air.count == 109
    article = air.articles[(98, 0)]
    assert len(article.paragraphs) == 8
    assert article.paragraphs[0].text.startswith("违反本条例第五十五条第二款规定，施工单位未采取有效防尘措施的")
    sixty = air.articles[(60, 0)]
    assert len(sixty.paragraphs) == 1 and len(sixty.paragraphs[0].items) == 3
    assert sixty.chapter.startswith("第五章")


def test_the_policy_splits_into_preamble_and_twenty_one_items(collection):
    policy = collection.lookup("实施意见")
    assert policy is collection.lookup("沪环督〔2024〕123号")
    assert policy.count == 21
    assert "谁审批谁负责" in policy.articles[(0, 0)].text()
    assert policy.articles[(7, 0)].text().startswith("市、区两级要建立研究明确具体事项牵头部门的常态化机制")
    assert "\n" not in policy.articles[(5, 0)].text()      # a paragraph broken across a page is joined


def test_split_articles_ignores_out_of_sequence_heads():
    text = "<!-- INFO END -->\n第一条 甲。\n\n第三条规定的情形除外。\n\n第二条 乙：\n\n（一）丙；\n\n（二）丁。\n"
    articles = split_articles(text)
    assert list(articles) == [(1, 0), (2, 0)]
    assert [p.text for p in articles[(1, 0)].paragraphs] == ["甲。", "第三条规定的情形除外。"]
    assert articles[(2, 0)].paragraphs[0].items == ("（一）丙；", "（二）丁。")


# ---------------------------------------------------------------- existence
def test_existing_and_missing_provisions(collection):
    eia = collection.lookup("建设项目环境保护管理条例")
    assert eia.find(Reference("article", 15)).found
    assert "同时设计、同时施工、同时投产使用" in eia.find(Reference("article", 15)).lines[0]
    assert eia.find(Reference("article", 98)).status == "no_article"
    assert eia.find(Reference("article", 15, paragraph=3)).status == "no_paragraph"
    air = collection.lookup("上海市大气污染防治条例")
    assert air.find(Reference("article", 60, item=3)).found
    assert air.find(Reference("article", 60, item=4)).status == "no_item"
    assert air.find(Reference("item", 5)).status == "not_in_this_kind"
    assert collection.lookup("大气污染防治法").title == "中华人民共和国大气污染防治法"
    assert collection.lookup("上海市社会生活噪声污染防治办法") is None


def test_the_version_in_force_on_a_day(collection):
    noise = collection.lookup("噪声污染防治法")
    assert noise.in_force(dt.date(2022, 6, 5)) and not noise.in_force(dt.date(2022, 6, 4))
    [quote] = quotes("《中华人民共和国噪声污染防治法》第八条", collection, dt.date(2021, 1, 1))
    assert quote.lines and "晚于判断日期" in quote.problem


def test_nearest_article_for_a_suggestion(collection):
    eia = collection.lookup("建设项目环境保护管理条例")
    assert eia.nearest("环境保护设施与主体工程同时设计同时施工同时投产")[0].key == (15, 0)


# ---------------------------------------------------------------- the shipped rulebook
def test_shipped_rulebook_has_no_citation_errors_and_counts(collection):
    rulebook, diagnostics = check_rulebook(RULES)
    assert rulebook is not None and rulebook.statutes is not None
    assert not [d for d in diagnostics if d.code in ("E240", "E241")]
    counts = count_citations(collection, [rule.cite for rule in rulebook.rules])
    assert counts.checked > 150 and counts.verified == counts.checked
    # sources outside the collection are listed once each, never once per rule
    outside = [d for d in diagnostics if d.code == "W241"]
    assert len(outside) == len({d.message.split("》")[0] for d in outside})


# ---------------------------------------------------------------- check on a small rulebook, with positions
def _rulebook(tmp_path, rules: str) -> Path:
    root = tmp_path / "rb"
    (root / "statutes").mkdir(parents=True)
    shutil.copy(ORG, root / "org.yaml")
    for name in ("建设项目环境保护管理条例(2017-07-16).md", "hu-huan-du-2024-123.txt"):
        shutil.copy(STATUTES / name, root / "statutes" / name)
    (root / "statutes" / "index.yaml").write_text(
        "statutes:\n"
        "  - {title: 建设项目环境保护管理条例, file: 建设项目环境保护管理条例(2017-07-16).md,"
        " kind: administrative_regulation, version: 2017-07-16, effective: 2017-10-01}\n"
        "  - {title: 上海市推动职能部门做好生态环境保护工作的实施意见, aliases: [实施意见], file: hu-huan-du-2024-123.txt,"
        " kind: normative_document, version: 2024-07-05, effective: 2024-07-05}\n", encoding="utf-8")
    (root / "assign.yaml").write_text(rules, encoding="utf-8")
    return root


def test_check_points_at_the_article_inside_the_cite(tmp_path, monkeypatch):
    root = _rulebook(tmp_path, "stage: assign\nsource: 建设项目环境保护管理条例\nrules:\n"
                               "  - id: a\n    title: 三同时\n    cite: 第十五条、第九十八条；实施意见（二十二）\n    lead: sthj\n    when: always\n"
                               "  - id: b\n    title: 三同时\n    cite: \"第十五条第二款\"\n    lead: sthj\n    when: always\n"
                               "  - id: c\n    title: 三同时\n    cite: 第十五条\n    lead: sthj\n    when: always\n"
                               "    effective: {until: 2016-12-31}\n")
    monkeypatch.chdir(tmp_path)
    rulebook, diagnostics = check_rulebook("rb")
    found = sorted((d.code, d.location.line, d.location.col, d.rule_id) for d in diagnostics)
    assert found == [("E240", 6, 16, "a"), ("E240", 6, 26, "a"), ("E240", 11, 12, "b"), ("W240", 16, 11, "c")]
    assert rulebook is None
    by_col = {(d.location.line, d.location.col): d for d in diagnostics}
    assert "全文共 30 条" in by_col[(6, 16)].message
    assert "全文共 21 项" in by_col[(6, 26)].message
    assert "只有 1 款" in by_col[(11, 12)].message
    assert "2017-10-01" in by_col[(16, 11)].message


def test_a_rulebook_without_statute_texts_is_not_checked(tmp_path):
    root = _rulebook(tmp_path, "stage: assign\nsource: 建设项目环境保护管理条例\nrules:\n"
                               "  - {id: a, title: t, cite: 第九十八条, when: always, lead: sthj}\n")
    shutil.rmtree(root / "statutes")
    rulebook, diagnostics = check_rulebook(root)
    assert rulebook is not None and rulebook.statutes is None and diagnostics == []


# ---------------------------------------------------------------- explain --quote
def test_explain_quote_prints_the_cited_sentences_under_the_conclusion():
    result = CliRunner().invoke(main, ["explain", "--title", "工地扬尘", "--district", "黄浦区", "--category",
                                       "construction_dust", "--as-of", "2025-06-01", "--quote"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("结论："))
    quoted = lines[start + 1:]
    assert quoted[0] == "引用条文："
    assert "    《上海市大气污染防治条例》第九十八条第一款（2018-12-20 版本）：" in quoted
    assert any(line.strip().startswith("违反本条例第五十五条第二款规定") for line in quoted)


def test_explain_quote_says_when_a_source_cannot_be_quoted():
    result = CliRunner().invoke(main, ["explain", "--title", "广场舞音响太吵", "--district", "杨浦区", "--category",
                                       "social_life_noise", "--fact", "noise_source=human_behaviour",
                                       "--as-of", "2025-06-01", "--quote"])
    assert result.exit_code == 0, result.output
    assert "不在随附的法规文本中，未能引用原文" in result.stdout


def test_without_quote_nothing_is_quoted():
    result = CliRunner().invoke(main, ["explain", "--title", "工地扬尘", "--district", "黄浦区", "--category",
                                       "construction_dust", "--as-of", "2025-06-01"])
    assert "引用条文" not in result.stdout


def test_a_source_outside_the_collection_is_listed_once_with_a_did_you_mean(tmp_path):
    root = _rulebook(tmp_path, "stage: assign\nsource: 建设项目环境保护条例\nrules:\n"
                               "  - {id: a, title: t, cite: 第十五条, when: always, lead: sthj}\n"
                               "  - {id: b, title: t, cite: 第十六条, when: always, lead: sthj}\n")
    rulebook, diagnostics = check_rulebook(root)
    [outside] = diagnostics
    assert (outside.code, outside.severity, outside.location.line) == ("W241", "warning", 2)
    assert "a、b" in outside.message and "是否应为《建设项目环境保护管理条例》" in outside.suggestion
    assert rulebook is not None       # warnings never stop loading


def test_a_statute_text_that_is_not_utf8_is_an_index_error_not_a_crash(tmp_path):
    root = _rulebook(tmp_path, "stage: assign\nsource: 建设项目环境保护管理条例\nrules:\n"
                               "  - {id: a, title: t, cite: 第十五条, when: always, lead: sthj}\n")
    text = root / "statutes" / "建设项目环境保护管理条例(2017-07-16).md"
    text.write_bytes(text.read_text(encoding="utf-8").encode("gb18030"))
    rulebook, diagnostics = check_rulebook(root)
    assert [(d.code, d.location.line) for d in diagnostics] == [("E241", 2)]
    assert "UTF-8" in diagnostics[0].message
