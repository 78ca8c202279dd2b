"""ecorules.places (district field and title → jurisdiction, W401–W406), ecorules.mentions (departments a
title names → named.*), and what `check` says about the gazetteer and the aliases (E208 E209 E360–E363)."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import RULES
from ecorules import check_rulebook
from ecorules.errors import MatterError
from ecorules.places import (HOW_CITYWIDE, HOW_DISTRICT, HOW_DISTRICT_PLACE, HOW_FORMER, HOW_LEVEL, HOW_NONE,
                             HOW_OPEN, HOW_PLACE, HOW_TITLE, Place)


@pytest.fixture(scope="module")
def places(default_engine):
    return default_engine.rulebook.places


@pytest.fixture(scope="module")
def mentions(default_engine):
    return default_engine.rulebook.mentions


def codes(place_or_resolution) -> list[str]:
    return [w.code for w in place_or_resolution.warnings]


# ---------------------------------------------------------------- the district field
@pytest.mark.parametrize("value, code", [
    ("黄浦区", "huangpu"), ("黄浦", "huangpu"), ("huangpu", "huangpu"), ("上海市黄浦区", "huangpu"),
    ("浦东新区", "pudong"), ("浦东", "pudong"), (" 嘉定区 ", "jiading"),
])
def test_a_district_written_any_way_is_that_district_without_a_warning(places, value, code):
    place = places.locate(value, "饭店油烟")
    assert (place.jurisdiction, place.how, place.warnings) == (code, HOW_DISTRICT, ())


@pytest.mark.parametrize("value, code", [
    ("闸北", "jingan"), ("闸北区", "jingan"), ("南汇区", "pudong"), ("南汇", "pudong"), ("卢湾区", "huangpu"),
    ("南市区", "huangpu"), ("川沙县", "pudong"), ("吴淞区", "baoshan"), ("上海县", "minhang"), ("崇明县", "chongming"),
])
def test_a_former_district_is_todays_district_with_w402_never_invalid(places, value, code):
    place = places.locate(value, "饭店油烟")
    assert (place.jurisdiction, place.how, codes(place)) == (code, HOW_FORMER, ["W402"])
    assert "旧区县名" in place.warnings[0].message


@pytest.mark.parametrize("value, code", [
    ("南翔镇", "jiading"), ("南翔", "jiading"), ("漕泾镇", "jinshan"), ("徐家汇街道", "xuhui"), ("张江", "pudong"),
    ("陆家嘴", "pudong"), ("虹桥枢纽", "minhang"), ("七宝", "minhang"), ("朱家角", "qingpu"), ("枫泾", "jinshan"),
])
def test_a_street_town_or_known_place_in_the_district_field_gives_its_district(places, value, code):
    place = places.locate(value, "饭店油烟")
    assert (place.jurisdiction, place.how, place.warnings) == (code, HOW_PLACE, ())


@pytest.mark.parametrize("value, code", [
    ("金山区漕泾镇", "jinshan"), ("嘉定区南翔镇", "jiading"), ("上海市嘉定区南翔镇", "jiading"), ("浦东新区张江镇", "pudong"),
    ("浦东张江", "pudong"), ("长宁区虹桥街道", "changning"), ("长宁区虹桥", "changning"), ("闵行区虹桥镇", "minhang"),
])
def test_district_plus_street_or_town(places, value, code):
    place = places.locate(value, "饭店油烟")
    assert (place.jurisdiction, place.how, place.warnings) == (code, HOW_DISTRICT_PLACE, ())


def test_district_plus_street_or_town_that_contradict_each_other_is_an_error(places):
    with pytest.raises(MatterError) as caught:
        places.locate("黄浦区南翔镇", "饭店油烟")
    assert caught.value.field == "district"
    assert "南翔镇属于嘉定区" in caught.value.message and "不属于黄浦区" in caught.value.message


def test_district_plus_an_unknown_part_keeps_the_district_with_w405(places):
    place = places.locate("金山区某某村三组", "饭店油烟")
    assert (place.jurisdiction, codes(place)) == ("jinshan", ["W405"])
    assert "某某村三组" in place.warnings[0].message


def test_a_former_district_plus_a_town(places):
    place = places.locate("南汇区周浦镇", "饭店油烟")
    assert (place.jurisdiction, place.how, codes(place)) == ("pudong", HOW_FORMER, ["W402"])


def test_an_unknown_district_is_still_invalid_with_a_suggestion(places):
    with pytest.raises(MatterError) as caught:
        places.locate("火星区", "饭店油烟")
    assert caught.value.field == "district" and "未知的区" in caught.value.message


def test_a_name_in_two_districts_in_the_district_field_is_left_open_unless_the_title_decides(places):
    open_ = places.locate("虹桥", "饭店油烟")
    assert (open_.jurisdiction, open_.how, codes(open_)) == ("sh", HOW_OPEN, ["W403"])
    assert "长宁区" in open_.warnings[0].message and "闵行区" in open_.warnings[0].message
    decided = places.locate("虹桥", "长宁区某小区楼下饭店油烟")
    assert (decided.jurisdiction, codes(decided)) == ("changning", ["W403"])


# ---------------------------------------------------------------- level and district
def test_level_municipal_with_a_district_is_still_an_error(places):
    for value in ("静安区", "南翔镇", "闸北"):
        with pytest.raises(MatterError) as caught:
            places.locate(value, "饭店油烟", "municipal")
        assert caught.value.field == "level"


def test_level_municipal_without_a_district_does_not_read_the_title(places):
    place = places.locate(None, "张江某工地扬尘", "municipal")
    assert (place.jurisdiction, place.how, place.warnings) == ("sh", HOW_LEVEL, ())


def test_level_district_is_satisfied_by_a_place_in_the_title_and_refused_without_one(places):
    assert places.locate(None, "张江某工地扬尘", "district").jurisdiction == "pudong"
    with pytest.raises(MatterError) as caught:
        places.locate(None, "区级责任清单编制情况统计", "district")
    assert caught.value.field == "district"
    with pytest.raises(MatterError):
        places.locate(None, "虹桥一家饭店油烟", "district")   # ambiguous: never guessed


# ---------------------------------------------------------------- the title
@pytest.mark.parametrize("title, code, word", [
    ("张江一栋写字楼楼顶冷却塔日夜嗡嗡响", "pudong", "张江"),
    ("陆家嘴某写字楼工地夜间施工", "pudong", "陆家嘴"),
    ("徐家汇商场后面饭店油烟", "xuhui", "徐家汇"),
    ("五角场附近烧烤摊油烟", "yangpu", "五角场"),
    ("老西门一家饭店油烟扰民", "huangpu", "老西门"),
    ("打浦桥工地扬尘", "huangpu", "打浦桥"),
    ("外高桥港区散货码头扬尘", "pudong", "外高桥港区"),
    ("临港一家工厂偷排废水", "pudong", "临港"),
    ("金桥开发区工厂异味", "pudong", "金桥开发区"),
    ("莘庄地铁站旁工地噪声", "minhang", "莘庄"),
    ("安亭汽车厂喷漆异味", "jiading", "安亭"),
    ("南翔古镇河道发黑", "jiading", "南翔"),
    ("朱家角景区河道漂浮垃圾", "qingpu", "朱家角"),
    ("枫泾镇工业区异味", "jinshan", "枫泾镇"),
    ("虹桥枢纽附近工地扬尘", "minhang", "虹桥枢纽"),
    ("宝山路一家饭店油烟", "jingan", "宝山路"),         # longest first: 宝山路 (静安) is not 宝山
    ("金山化工区异味", "jinshan", "金山"),                   # 化工区 spans 金山 / 奉贤: 金山 decides
])
def test_the_title_is_read_for_a_place_longest_match_first_with_w401(places, title, code, word):
    place = places.locate(None, title)
    assert (place.jurisdiction, place.how, place.evidence) == (code, HOW_TITLE, word)
    assert codes(place) == ["W401"] and word in place.warnings[0].message


def test_a_former_district_in_the_title_gives_w401_and_w402(places):
    place = places.locate(None, "南汇某工地夜间施工噪声扰民")
    assert (place.jurisdiction, codes(place)) == ("pudong", ["W401", "W402"])


@pytest.mark.parametrize("title", ["虹桥一家饭店油烟扰民", "化工区异味很重"])
def test_a_bare_name_shared_by_two_districts_is_left_open_with_w403(places, title):
    place = places.locate(None, title)
    assert (place.jurisdiction, place.how, codes(place)) == ("sh", HOW_OPEN, ["W403"])


def test_another_word_of_the_title_settles_a_shared_name(places):
    assert places.locate(None, "闵行区虹桥镇一家饭店油烟").jurisdiction == "minhang"
    assert places.locate(None, "虹桥街道仙霞路饭店油烟，属长宁").jurisdiction == "changning"


def test_places_in_several_districts_are_left_open_with_w403(places):
    place = places.locate(None, "嘉定、青浦两区交界河道水质反复超标")
    assert (place.jurisdiction, codes(place)) == ("sh", ["W403"])
    assert "嘉定区" in place.warnings[0].message and "青浦区" in place.warnings[0].message


def test_no_place_stays_municipal_with_w404(places):
    place = places.locate(None, "机动车排放检验机构检测作假")
    assert (place.jurisdiction, place.how, codes(place)) == ("sh", HOW_NONE, ["W404"])


@pytest.mark.parametrize("title", ["黄浦江上游船排放黑烟", "吴淞口锚地货船冒黑烟", "普陀山旅游团大巴冒黑烟",
                                   "践行绿水青山就是金山银山理念", "崇明路一家饭店油烟"])
def test_words_that_contain_a_district_name_are_not_that_district(places, title):
    assert places.locate(None, title).jurisdiction == "sh"


def test_citywide_words_make_the_matter_municipal_and_a_named_place_is_a_w406(places):
    assert places.locate(None, "全市裸露土地排查整治任务分解") == Place("sh", HOW_CITYWIDE, "全市")
    both = places.locate(None, "市级督察发现：外高桥港区散货码头扬尘")
    assert (both.jurisdiction, codes(both)) == ("sh", ["W406"]) and "外高桥港区" in both.warnings[0].message


def test_locate_is_deterministic_and_the_place_is_frozen(places):
    first = places.locate(None, "张江某工地扬尘")
    assert first == places.locate(None, "张江某工地扬尘")
    with pytest.raises(AttributeError):
        first.jurisdiction = "sh"  # type: ignore[misc]


# ---------------------------------------------------------------- through the engine
def test_resolution_carries_the_warnings_and_the_explanation_says_how_the_place_was_found(default_engine):
    r = default_engine.resolve({"id": "m", "title": "张江一栋写字楼楼顶冷却塔日夜嗡嗡响"})
    assert r.jurisdiction == "pudong" and r.level == "district" and codes(r) == ["W401"]
    assert "所属区据标题中的“张江”判断" in r.explanation
    plain = default_engine.resolve({"id": "m", "title": "饭店油烟", "district": "黄浦区"})
    assert plain.warnings == [] and "所属区" not in plain.explanation


def test_explain_shows_the_warnings(default_engine):
    from ecorules.explain import explain_lines
    r = default_engine.resolve({"id": "m", "title": "张江一家工厂夜里偷排废气"})
    assert "提示 W401：未填所属区，按标题中的“张江”判断为浦东新区，请核对" in explain_lines(r, default_engine.rulebook)


def test_an_invalid_place_gives_no_warnings_but_a_row_invalid_elsewhere_keeps_them(default_engine):
    r = default_engine.resolve({"id": "m", "title": "饭店油烟", "district": "黄浦区南翔镇"})
    assert r.status == "invalid" and r.warnings == [] and r.error.field == "district"
    r = default_engine.resolve({"id": "m", "title": "饭店油烟", "district": "闸北", "category": "没有这个类别"})
    assert r.status == "invalid" and r.error.field == "category" and codes(r) == ["W402"]


def test_warnings_are_in_the_json_schema_and_the_json_output(default_engine):
    r = default_engine.resolve({"id": "m", "title": "饭店油烟", "district": "闸北"})
    assert r.model_dump(mode="json")["warnings"] == [{"code": "W402", "message": r.warnings[0].message}]


# ---------------------------------------------------------------- departments named in the title
@pytest.mark.parametrize("title, jurisdiction, expected", [
    ("市交通委对码头扬尘不作为", "pudong", ("jtw", "municipal", "sh.jtw")),
    ("区绿化市容局一直推诿", "songjiang", ("lhsr", "district", "songjiang.lhsr")),
    ("浦东新区生态环境局接到投诉后未处理", "sh", ("sthj", "district", "pudong.sthj")),
    ("浦东环保局不回电话", "sh", ("sthj", "district", "pudong.sthj")),
    ("闸北区环保局", "sh", ("sthj", "district", "jingan.sthj")),
    ("上海市环保局", "huangpu", ("sthj", "municipal", "sh.sthj")),
    ("环保局不管", "huangpu", ("sthj", None, "huangpu.sthj")),
    ("派出所说不归他们管", "xuhui", ("gaj", "district", "xuhui.gaj")),
    ("居委说找街道", "xuhui", ("jiezhen", "district", "xuhui.jiezhen")),
    ("住建委", "sh", ("zjw", None, "sh.zjw")),
    ("建管委", "minhang", ("zjw", None, "minhang.zjw")),
    ("城管来了又走", "minhang", ("cgzf", None, "minhang.cgzf")),
    ("找过工商", "huangpu", ("scjgj", None, "huangpu.scjgj")),
    ("质监", "sh", ("scjgj", None, "sh.scjgj")),
    ("规土局", "sh", ("ghzy", None, "sh.ghzy")),
    ("农委", "sh", ("nyncw", None, "sh.nyncw")),
    ("水务局", "qingpu", ("swj", None, "qingpu.swj")),
    ("镇政府", "qingpu", ("jiezhen", "district", "qingpu.jiezhen")),
])
def test_a_department_named_in_the_text_with_its_level(mentions, title, jurisdiction, expected):
    first = mentions.find(title, jurisdiction)[0]
    assert (first.role, first.level, first.node) == expected


def test_district_level_name_in_a_municipal_matter_has_no_body(mentions):
    first = mentions.find("区绿化市容局推诿", "sh")[0]
    assert (first.role, first.level, first.node, first.jurisdiction) == ("lhsr", "district", None, None)


def test_words_that_only_contain_a_department_name_are_skipped(mentions):
    assert mentions.find("街道上垃圾很多，用环保袋装", "huangpu") == ()
    assert [m.role for m in mentions.find("打12345反映，街道办不管", "huangpu")] == ["jiezhen"]
    assert mentions.find("超市门口", "huangpu") == ()


def test_the_named_fact_encodes_the_first_department_and_every_role(mentions):
    fact = mentions.fact(mentions.find("市交通委不管渣土车，区绿化市容局也推诿，工商说不归他们", "pudong"))
    assert fact == {"named": {"role": "jtw", "level": "municipal", "id": "sh.jtw", "jurisdiction": "sh",
                              "former": False, "count": 3, "roles": "jtw lhsr scjgj"}}
    assert mentions.fact(()) == {}


def test_rules_can_test_named_fields_and_check_accepts_them(make_rulebook):
    rules = make_rulebook({"classify/named.yaml": """
        stage: classify
        rules:
          - id: named.police
            title: 标题点名公安
            cite: 测试
            when: {named.role: gaj, named.level: district, named.count: {gte: 1}, named.roles: {contains: gaj}}
            set: {facts.police_named: true}
        """, "assign/a.yaml": """
        stage: assign
        rules:
          - id: a.police
            title: 点名公安时由公安牵头（测试）
            cite: 测试
            when: {facts.police_named: true}
            lead: gaj
        """, "org/aliases.yaml": (RULES / "org" / "aliases.yaml").read_text(encoding="utf-8")})
    rulebook, diagnostics = check_rulebook(rules)
    assert [d for d in diagnostics if d.severity == "error"] == []
    from ecorules import Engine
    with Engine.from_directory(rules) as engine:
        assert engine.resolve({"id": "m", "title": "派出所不出警", "district": "黄浦区"}).lead.id == "huangpu.gaj"
        assert engine.resolve({"id": "m", "title": "公安不出警", "district": "黄浦区"}).lead is None  # no level said
        given = engine.resolve({"id": "m", "title": "派出所不出警", "district": "黄浦区",
                                "facts": {"police_named": False}})
        assert given.lead is None   # a value given in facts is never overridden by what the text suggests


def test_the_text_never_overrides_explicit_category_or_approved_by(default_engine):
    r = default_engine.resolve({"id": "m", "title": "找了工商、城管都没人管工地扬尘", "district": "黄浦区",
                                "category": "catering_fumes", "approved_by": "市生态环境局"})
    assert r.category == "catering_fumes" and r.lead.id == "huangpu.sthj"


# ---------------------------------------------------------------- check: the gazetteer and the aliases
BAD_PLACES = """\
source: 测试
places:
  - {name: 南翔镇, district: jiading, kind: town, provenance: source}
  - {name: 南翔镇, district: huangpu, kind: town, provenance: source}
  - {name: 某园区, district: pudong, kind: area, aliases: [浦东], provenance: inference}
  - {name: 某地, district: pudongg, kind: area, provenance: inference}
  - {name: 某河, district: pudong, kind: not_place, provenance: inference}
  - {name: 某片区, kind: area, provenance: inference}
"""
BAD_ALIASES = """\
aliases:
  - {name: 环保, role: sthj, provenance: inference}
  - {name: 环保, role: zjw, provenance: inference}
  - {name: 建委, role: lhsr, provenance: inference}
  - {name: 某局, role: sthjj, provenance: inference}
"""


def _col(text: str, line: int, word: str) -> int:
    return text.splitlines()[line - 1].index(word) + 1


def test_check_reports_bad_places_and_aliases_at_file_line_col(make_rulebook):
    rules = make_rulebook({"places/bad.yaml": BAD_PLACES, "org/aliases.yaml": BAD_ALIASES})
    rulebook, diagnostics = check_rulebook(rules)
    assert rulebook is None
    found = {(d.code, d.location.file.rsplit("/", 1)[-1], d.location.line, d.location.col) for d in diagnostics}
    assert found == {
        ("E360", "bad.yaml", 4, _col(BAD_PLACES, 4, "district")),     # 南翔镇 in two districts
        ("E361", "bad.yaml", 5, _col(BAD_PLACES, 5, "浦东")),          # an alias that is a district's name
        ("E208", "bad.yaml", 6, _col(BAD_PLACES, 6, "district")),     # unknown district code
        ("E363", "bad.yaml", 7, _col(BAD_PLACES, 7, "district")),     # not_place with a district
        ("E363", "bad.yaml", 8, _col(BAD_PLACES, 8, "name")),         # area without a district
        ("E362", "aliases.yaml", 3, _col(BAD_ALIASES, 3, "name")),    # 环保 → sthj and zjw
        ("E362", "aliases.yaml", 4, _col(BAD_ALIASES, 4, "name")),    # 建委 is the org data's zjw
        ("E209", "aliases.yaml", 5, _col(BAD_ALIASES, 5, "role")),    # unknown role
    }
    by_code = {d.code: d for d in diagnostics}
    assert by_code["E208"].suggestion and "pudong" in by_code["E208"].suggestion
    assert by_code["E209"].suggestion and "sthj" in by_code["E209"].suggestion


def test_the_shipped_gazetteer_holds_the_234_coded_places_with_source_and_date():
    import yaml
    data = yaml.safe_load((RULES / "places" / "gazetteer.yaml").read_text(encoding="utf-8"))
    assert len(data["places"]) == 234 and str(data["as_of"]) == "2023-06-30" and "2023" in data["source"]
    assert all(p["code"] and p["provenance"] == "source" for p in data["places"])


def test_the_shipped_gazetteer_is_what_the_script_generates():
    import importlib.util
    spec = importlib.util.spec_from_file_location("make_gazetteer", RULES / "places" / "make_gazetteer.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    import csv
    with module.DEFAULT_CSV.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert module.render(rows) == (RULES / "places" / "gazetteer.yaml").read_text(encoding="utf-8")


def test_romanised_yaml_is_what_make_romanised_generates():
    """The Latin spellings (rules/places/romanised.yaml) are generated from gazetteer.yaml and common-names.yaml;
    an edit to either without rerunning the script fails here."""
    pytest.importorskip("pypinyin")
    import importlib.util
    spec = importlib.util.spec_from_file_location("make_romanised", RULES / "places" / "make_romanised.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.render(module.entries()) == (RULES / "places" / "romanised.yaml").read_text(encoding="utf-8")


# ---------------------------------------------------------------- properties
_PIECES = ["张江", "虹桥", "黄浦江", "浦东", "闸北", "全市", "化工区", "南翔镇", "市交通委", "区城管", "派出所", "街道上",
           "宝山路", "金山", "工地", "扬尘", "，", "区", "市", " "]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(_PIECES), st.text(max_size=3)), max_size=12).map("".join))
def test_reading_any_title_never_raises_and_gives_a_known_jurisdiction(default_engine, title):
    places, mentions = default_engine.rulebook.places, default_engine.rulebook.mentions
    place = places.locate(None, title)
    assert place.jurisdiction in {"sh", *default_engine.rulebook.org.districts}
    assert place.how in {HOW_TITLE, HOW_CITYWIDE, HOW_NONE, HOW_OPEN}
    assert (place.jurisdiction == "sh") == (place.how != HOW_TITLE)
    assert all(w.code in {"W401", "W402", "W403", "W404", "W406"} for w in place.warnings)
    for mention in mentions.find(title, place.jurisdiction):
        assert mention.role in default_engine.rulebook.org.roles
        assert mention.node is None or default_engine.rulebook.org.has_node(mention.node)
