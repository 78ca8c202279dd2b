"""The durable_rules seam: each sharp edge of durable_rules 2.0.28 (shared/reference/durable-notes.md)
is driven here, and the engine must answer correctly instead of crashing, hanging or misjudging."""
from __future__ import annotations

import pytest

from ecorules import Engine, EngineError, RulebookError
from ecorules.compiler import LIMIT_CHILDREN, LIMIT_RANGE, LIMIT_RULES, CompiledRule, pack, term_load


def assign_file(rules: str) -> dict:
    return {"assign/rules.yaml": "stage: assign\nsource: 测试依据\nrules:\n" + rules}


def fired(resolution, stage="assign") -> list[str]:
    return [b.rule for b in resolution.basis if b.stage == stage]


@pytest.fixture
def small_engine(make_rulebook):
    path = make_rulebook(assign_file("""
  - id: dust
    title: 扬尘
    cite: 第一条
    when: {category: dust}
    lead: zjw
    assist: [sthj, jiezhen]
  - id: either
    title: 任一条件
    cite: 第二条
    when: {any: [{title: {contains: 油烟}}, {title: {contains: 餐馆}}]}
    lead: sthj
  - id: no-x
    title: 只有不存在判断
    cite: 第三条
    when: {facts.x: {exists: false}, category: nox}
    lead: lhsr
"""))
    with Engine.from_directory(path) as engine:
        yield engine


def test_matter_matching_nothing_is_unassigned_not_an_exception(small_engine):
    # durable raises MessageNotHandledException for such a fact; deleting its session would segfault
    for _ in range(3):
        result = small_engine.resolve({"id": "n", "title": "无关事项", "category": "other"})
        assert result.status == "unassigned"
        assert fired(result) == []


def test_or_with_two_true_branches_is_reported_once(small_engine):
    result = small_engine.resolve({"id": "o", "title": "餐馆油烟", "district": "黄浦区"})
    assert fired(result) == ["either"]
    assert result.lead.id == "huangpu.sthj"


def test_rule_made_only_of_missing_field_test_does_not_hang(small_engine):
    result = small_engine.resolve({"id": "x", "title": "t", "category": "nox"})
    assert result.lead.id == "sh.lhsr"
    result = small_engine.resolve({"id": "x", "title": "t", "category": "nox", "facts": {"x": 1}})
    assert result.status == "unassigned"


def test_same_matter_twice_gets_same_answer(small_engine):
    # durable refuses the same fact content twice without a unique id
    matter = {"id": "same", "title": "工地扬尘", "category": "dust", "district": "pudong"}
    first, second = small_engine.resolve(matter), small_engine.resolve(matter)
    assert first.model_dump() == second.model_dump()
    assert first.lead.id == "pudong.zjw"
    assert [d.id for d in first.assist] == ["pudong.sthj", "pudong.jiezhen"]


def test_jiezhen_assist_drops_at_municipal_level(small_engine):
    result = small_engine.resolve({"id": "m", "title": "工地扬尘", "category": "dust"})
    assert [d.id for d in result.assist] == ["sh.sthj"]


def test_many_matters_use_one_session(small_engine):
    # durable runs out of memory beyond 1024 live sessions per ruleset; the engine uses one
    results = list(small_engine.resolve_many({"id": str(i), "title": "工地", "category": "dust"} for i in range(1500)))
    assert {r.status for r in results} == {"resolved"}


def test_title_longer_than_durable_can_compare_is_invalid(small_engine):
    result = small_engine.resolve({"id": "long", "title": "油烟" * 20_001})
    assert result.status == "invalid"
    assert result.error.field == "title"


def test_too_many_facts_is_invalid(small_engine):
    result = small_engine.resolve({"id": "f", "title": "t", "facts": {f"k{i}": i for i in range(300)}})
    assert result.status == "invalid"
    assert result.error.field == "facts"


def test_closed_engine_refuses_clearly(make_rulebook):
    engine = Engine.from_directory(make_rulebook(assign_file("""
  - {id: a, title: a, cite: c, when: {category: a}, lead: sthj}
""")))
    engine.close()
    engine.close()  # twice is fine
    with pytest.raises(EngineError):
        engine._matcher.match("assign", {"_m": 1, "category": "a"})


def test_two_engines_from_one_rulebook_side_by_side(make_rulebook):
    # durable mutates the definitions it registers; each engine registers its own deep copy
    path = make_rulebook(assign_file("""
  - {id: a, title: a, cite: c, when: {category: a}, lead: sthj}
"""))
    other = make_rulebook(assign_file("""
  - {id: a, title: a, cite: c, when: {category: a}, lead: lhsr}
"""))
    one = Engine.from_directory(path)
    two = Engine(one.rulebook)
    three = Engine.from_directory(other)
    matter = {"id": "1", "title": "t", "category": "a"}
    assert one.resolve(matter).lead.id == two.resolve(matter).lead.id == "sh.sthj"
    assert three.resolve(matter).lead.id == "sh.lhsr"
    for engine in (one, two, three):
        engine.close()


def test_more_distinct_tests_than_one_durable_node_allows(make_rulebook):
    # durable's create_ruleset hangs at the 513th distinct test under one node: rules are packed
    rules = "".join(f"  - {{id: r{i}, title: t, cite: c, when: {{category: c{i}}}, lead: sthj}}\n" for i in range(700))
    with Engine.from_directory(make_rulebook(assign_file(rules))) as engine:
        assert len(engine.rulebook.compiled.stages["assign"].rulesets) >= 2
        assert fired(engine.resolve({"id": "1", "title": "t", "category": "c650"})) == ["r650"]
        assert fired(engine.resolve({"id": "2", "title": "t", "category": "c3"})) == ["r3"]


def test_more_range_tests_than_durable_allows_on_one_fact(make_rulebook):
    # durable fails the whole item (error 303) beyond 64 range tests matching one fact: rules are packed
    rules = "".join(f"  - {{id: g{i}, title: t, cite: c, when: {{facts.n: {{gt: {i}}}}}, lead: sthj}}\n" for i in range(80))
    with Engine.from_directory(make_rulebook(assign_file(rules))) as engine:
        result = engine.resolve({"id": "1", "title": "t", "facts": {"n": 100}})
        assert sorted(fired(result)) == sorted(f"g{i}" for i in range(80))
        result = engine.resolve({"id": "2", "title": "t", "facts": {"n": 5}})
        assert sorted(fired(result)) == sorted(f"g{i}" for i in range(5))


def test_pack_respects_the_rule_count_limit():
    rules = [CompiledRule(f"r{i}", None, {"$and": [{"_m": 1}, {"category": "x"}]}) for i in range(LIMIT_RULES + 5)]
    assert [len(r) for r in pack(rules)] == [LIMIT_RULES, 5]


def test_pack_respects_the_children_limit():
    rules = [CompiledRule(f"r{i}", None, {"$and": [{"_m": 1}, {"category": f"c{i}"}]}) for i in range(LIMIT_CHILDREN + 1)]
    assert [len(r) for r in pack(rules)] == [LIMIT_CHILDREN, 1]


def test_pack_respects_the_matching_tests_limit():
    rules = [CompiledRule(f"r{i}", None, condition, term_load(condition))
             for i, condition in enumerate({"$and": [{"_m": 1}, {"$neq": {"facts.c": f"v{i}"}}]} for i in range(100))]
    assert [len(r) for r in pack(rules)] == [LIMIT_RANGE - 1, 100 - (LIMIT_RANGE - 1)]  # + the anchor


def test_alternatives_become_separate_durable_rules(make_rulebook):
    # durable refuses some nested $or/$and shapes (error 113): conditions are expanded to alternatives
    deep = {"any": [{"all": [{"facts.c": "a"}, {"any": [{"facts.d": "b"}, {"all": [{"facts.e": "c"},
                    {"any": [{"facts.f": "d"}, {"facts.g": "e"}]}]}]}]}, {"facts.h": "f"}]}
    import yaml
    rule = yaml.safe_dump([{"id": "deep", "title": "t", "cite": "c", "when": deep, "lead": "sthj"}],
                          allow_unicode=True, default_flow_style=True)
    with Engine.from_directory(make_rulebook(assign_file("  - " + rule.strip()[1:-1] + "\n"))) as engine:
        names = list(engine.rulebook.compiled.stages["assign"].rules)
        assert names == ["r0_0", "r0_1", "r0_2", "r0_3"]
        assert "$or" not in str(engine.rulebook.compiled.definitions())
        assert fired(engine.resolve({"id": "1", "title": "t", "facts": {"c": "a", "e": "c", "g": "e"}})) == ["deep"]
        assert fired(engine.resolve({"id": "2", "title": "t", "facts": {"c": "a", "e": "c"}})) == []
        assert fired(engine.resolve({"id": "3", "title": "t", "facts": {"h": "f", "c": "a", "d": "b"}})) == ["deep"]


def test_numbers_given_as_text_are_compared_as_numbers(make_rulebook):
    # durable compares mixed types as text ("10" > 9 is false there): facts are converted first
    with Engine.from_directory(make_rulebook(assign_file("""
  - {id: big, title: t, cite: c, when: {facts.n: {gt: 9}}, lead: sthj}
  - {id: flag, title: t, cite: c, when: {facts.crime: true}, lead: gaj}
"""))) as engine:
        assert fired(engine.resolve({"id": "1", "title": "t", "facts": {"n": "10"}})) == ["big"]
        assert fired(engine.resolve({"id": "2", "title": "t", "facts": {"crime": "是"}})) == ["flag"]
        assert fired(engine.resolve({"id": "3", "title": "t", "facts": {"crime": "false"}})) == []
        bad = engine.resolve({"id": "4", "title": "t", "facts": {"n": "很多"}})
        assert bad.status == "invalid" and bad.error.field == "facts.n"


def test_float_durable_cannot_read_is_a_clear_error(make_rulebook):
    # json.dumps writes 1e-05, which durable rejects (error 204); 1.5e-05 would pass but 1e-05 cannot
    with Engine.from_directory(make_rulebook(assign_file("""
  - {id: small, title: t, cite: c, when: {facts.ratio: {lt: 0.001}}, lead: sthj}
"""))) as engine:
        assert fired(engine.resolve({"id": "1", "title": "t", "facts": {"ratio": 0.0005}})) == ["small"]
        bad = engine.resolve({"id": "2", "title": "t", "facts": {"ratio": 1e-05}})
        assert bad.status == "invalid" and bad.error.field == "facts.ratio"


def test_regex_special_characters_in_contains_are_literal(make_rulebook):
    with Engine.from_directory(make_rulebook(assign_file("""
  - {id: paren, title: t, cite: c, when: {title: {contains: "(夜间)"}}, lead: sthj}
  - {id: dot, title: t, cite: c, when: {title: {contains: "a.b"}}, lead: sthj}
  - {id: pct, title: t, cite: c, when: {title: {contains: "50%"}}, lead: sthj}
"""))) as engine:
        assert fired(engine.resolve({"id": "1", "title": "施工(夜间)扰民"})) == ["paren"]
        assert fired(engine.resolve({"id": "2", "title": "施工夜间扰民"})) == []
        assert fired(engine.resolve({"id": "3", "title": "xa.bx"})) == ["dot"]
        assert fired(engine.resolve({"id": "4", "title": "xaxbx"})) == []
        assert fired(engine.resolve({"id": "5", "title": "超标50%"})) == ["pct"]


def test_patterns_durable_would_accept_wrongly_are_refused(make_rulebook):
    # durable registers '(a|b' without complaint; the documented dialect does not allow it
    with pytest.raises(RulebookError) as caught:
        Engine.from_directory(make_rulebook(assign_file("""
  - {id: p1, title: t, cite: c, when: {title: {matches: "(油烟|噪音"}}, lead: sthj}
  - {id: p2, title: t, cite: c, when: {title: {matches: "%d+\\\\d"}}, lead: sthj}
  - {id: p3, title: t, cite: c, when: {title: {matches: "[一-龥]+"}}, lead: sthj}
""")))
    assert [d.code for d in caught.value.diagnostics] == ["E303", "E303", "E303"]


def test_empty_any_is_refused_never_emitted(make_rulebook):
    # an empty $and/$or makes durable loop forever on the first assert
    with pytest.raises(RulebookError) as caught:
        Engine.from_directory(make_rulebook(assign_file("""
  - {id: e, title: t, cite: c, when: {any: []}, lead: sthj}
""")))
    assert caught.value.diagnostics[0].code == "E304"


def test_rule_with_when_always_always_fires(make_rulebook):
    with Engine.from_directory(make_rulebook(assign_file("""
  - {id: always, title: t, cite: c, when: always, lead: sthj, priority: 1}
"""))) as engine:
        assert engine.rulebook.compiled.stages["assign"].rulesets[0]["r0"] == {"all": [{"m": {"$and": [{"_m": 1}]}}]}
        assert engine.resolve({"id": "1", "title": "t"}).lead.id == "sh.sthj"


def test_text_tests_do_not_use_durables_regex(make_rulebook):
    # durable's $mt answers wrongly: `.*(abc|de).*` does not match "abcd", `.*bbb.*` misses "baabbbba",
    # and `.*aaab.*` cannot be registered at all; text tests are computed as features instead
    with Engine.from_directory(make_rulebook(assign_file("""
  - {id: any, title: t, cite: c, when: {title: {contains_any: [abc, de]}}, lead: sthj}
  - {id: overlap, title: t, cite: c, when: {title: {contains: bbb}}, lead: sthj}
  - {id: aaab, title: t, cite: c, when: {title: {contains: aaab}}, lead: sthj}
  - {id: muck, title: t, cite: c, when: {title: {contains_any: [渣土车, 渣土]}}, lead: lhsr}
"""))) as engine:
        assert "$mt" not in str(engine.rulebook.compiled.definitions())
        assert fired(engine.resolve({"id": "1", "title": "abcd"})) == ["any"]
        assert fired(engine.resolve({"id": "2", "title": "baabbbba"})) == ["overlap"]
        assert fired(engine.resolve({"id": "3", "title": "xaaaab"})) == ["aaab"]
        assert fired(engine.resolve({"id": "4", "title": "渣土车带泥上路"})) == ["muck"]


def test_negated_text_test_holds_only_when_the_field_is_there(make_rulebook):
    with Engine.from_directory(make_rulebook(assign_file("""
  - {id: site, title: t, cite: c, when: {title: {contains: 工地}, not: {title: {contains: 装修}}}, lead: zjw}
  - {id: src, title: t, cite: c, when: {source: {not: {contains: "12345"}}}, lead: sthj}
"""))) as engine:
        assert fired(engine.resolve({"id": "1", "title": "工地扬尘"})) == ["site"]
        assert fired(engine.resolve({"id": "2", "title": "工地装修扬尘"})) == []
        assert fired(engine.resolve({"id": "3", "title": "x", "source": "督察"})) == ["src"]
        assert fired(engine.resolve({"id": "4", "title": "x", "source": "12345热线"})) == []
        assert fired(engine.resolve({"id": "5", "title": "x"})) == []  # no source: the negation is false too


def test_engine_match_is_the_public_seam_to_the_matcher(make_rulebook):
    with Engine.from_directory(make_rulebook(assign_file("""
  - {id: dust, title: t, cite: c, when: {category: construction_dust}, lead: zjw}
  - {id: all, title: t, cite: c, when: always, lead: sthj, priority: 1}
"""))) as engine:
        fired = engine.match("assign", {"_m": 1, "title": "t", "category": "construction_dust"})
        rules = engine.rulebook.compiled.stages["assign"].rules
        assert sorted(rules[name].rule.id for name in fired) == ["all", "dust"]
        assert [rules[name].rule.id for name in engine.match("assign", {"_m": 1, "title": "t"})] == ["all"]
