"""Issue 14: the direct matcher (durable's C functions) answers exactly as the reference matcher (durable's own
Python Host) does — byte for byte, on the fixture matters and every ticket set, whatever the rule files say
today (no stored golden file: both sides are computed from the rulebook in the checkout) — and whatever thread
asks."""
from __future__ import annotations

import datetime as dt
import json
import threading

import pytest

from ecorules import Engine, Matter, Resolution
from ecorules.rulebook import load_rulebook
from ecorules.textscan import fold

from conftest import FIXTURES, RULES

TODAY = dt.date(2025, 6, 1)  # matters without as_of are resolved on this day by both engines


def _rows() -> list[dict]:
    """The fixture matters, and every ticket set as a matter (its labels dropped), once with its district and
    once without (the district read from the title). Never fixtures/held-out/."""
    rows = [json.loads(line) for line in (FIXTURES / "matters.jsonl").read_text(encoding="utf-8").splitlines()
            if line.strip()]
    for path in sorted(FIXTURES.glob("tickets-*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                ticket = {k: v for k, v in json.loads(line).items() if k in Matter.model_fields}
                rows += [ticket, {k: v for k, v in ticket.items() if k != "district"}]
    return rows


@pytest.fixture(scope="module")
def engines():
    rulebook = load_rulebook(RULES)
    with Engine(rulebook, today=lambda: TODAY) as direct, \
            Engine(rulebook, today=lambda: TODAY, matcher="reference") as reference:
        yield direct, reference


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    rows = _rows()
    assert len(rows) > 1500 and not any("held-out" in str(r) for r in rows)
    return rows


def test_direct_and_reference_matchers_agree_byte_for_byte(engines, rows):
    direct, reference = engines
    differ = [row.get("id") for row in rows
              if direct.resolve(row).model_dump_json() != reference.resolve(row).model_dump_json()]
    assert differ == []


def matched_facts(engine, rows) -> list[tuple[str, dict]]:
    """(stage, a copy of the fact) for every call the resolver makes to the matcher while resolving `rows`."""
    captured = []
    original = engine._resolver.match

    def spy(stage, fact):
        captured.append((stage, json.loads(json.dumps(fact))))
        return original(stage, fact)
    engine._resolver.match = spy
    try:
        for row in rows:
            engine.resolve(row)
    finally:
        engine._resolver.match = original
    return captured


def test_both_matchers_fire_the_same_rules_for_every_stage(engines, rows):
    """The seam itself: the same encoded fact fires the same rule names in the same order."""
    direct, reference = engines
    captured = matched_facts(direct, rows[:400])
    assert {stage for stage, _ in captured} == {"classify", "assign", "route"}
    for stage, fact in captured:
        assert direct.match(stage, fact) == reference.match(stage, fact), (stage, fact)


def test_match_leaves_the_callers_fact_unchanged(engines):
    fact = {"_m": 1, "title": "工地扬尘", "level": "municipal", "category": "construction_dust"}
    before = json.dumps(fact, sort_keys=True)
    for engine in engines:
        engine.match("assign", fact)
        assert json.dumps(fact, sort_keys=True) == before


def test_unknown_matcher_is_refused():
    with pytest.raises(ValueError):
        Engine(load_rulebook(RULES), matcher="python")


@pytest.mark.parametrize("matcher", ["direct", "reference"])
def test_same_result_whatever_the_thread(matcher, rows):
    """One engine shared by four threads gives each matter the answer a lone caller gets."""
    sample = rows[::7]
    with Engine(load_rulebook(RULES), today=lambda: TODAY, matcher=matcher) as engine:
        expected = [engine.resolve(row).model_dump_json() for row in sample]
        got: dict[int, list[str]] = {}

        def work(k: int):
            got[k] = [engine.resolve(row).model_dump_json() for row in sample[k::2] + sample[1 - k % 2::2]]
        threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    for k in range(4):
        assert got[k] == expected[k::2] + expected[1 - k % 2::2]


def test_the_matchers_fact_text_is_json_of_the_projected_fact(engines, rows):
    """The direct matcher writes the fact in one pass (only the fields the stage tests); it must read back as
    exactly those fields of the fact."""
    from ecorules.engine import _encode, _projection  # the seam's own helpers, tested here directly

    direct, _ = engines
    captured = matched_facts(direct, rows[:300])
    for stage, fact in captured:
        compiled = direct.rulebook.compiled.stages[stage]
        projection = _projection(compiled.paths, compiled.presence)
        decoded = json.loads(_encode(fact, projection))
        assert decoded == _expected_projection(fact, compiled.paths, compiled.presence)
    odd = {"_m": 1, "title": 'a"b\\c\u2028\x01中', "n": 10**20, "x": 0.0001, "b": False, "facts": {"k": None, "j": 1.5}}
    assert json.loads(_encode(odd, None)) == odd
    assert _encode(odd, None) == json.dumps(odd, ensure_ascii=False, separators=(",", ":"))


def _expected_projection(fact: dict, paths, presence=frozenset()) -> dict:
    """Naively: keep each tested path (a text feature path keeps every feature; a path ending on an object keeps it;
    a path tested only for being there keeps a 1 in place of a text or number)."""
    out: dict = {}
    for path in paths:
        parts = path.split(".")
        if parts[0] == "_f":
            parts = parts[:1]
        source, target = fact, out
        for depth, part in enumerate(parts):
            if not isinstance(source, dict) or part not in source:
                break
            if depth == len(parts) - 1 or not isinstance(source[part], dict):
                only_there = path in presence and not isinstance(source[part], dict)
                target[part] = 1 if only_there else source[part]
                break
            source, target = source[part], target.setdefault(part, {})
    return out


@pytest.mark.parametrize("matter", [
    {"id": "fx-003", "title": "新污染物治理工作中抗生素、微塑料监测评估的牵头部门不明确，需研究明确", "source": "policy"},
    {"id": "fx-001", "title": "《上海市噪声污染防治行动方案（2024—2026年）》任务：高架道路沿线加装声屏障，降低交通噪声",
     "source": "policy", "as_of": "2024-09-01"},
    {"id": "fx-032", "title": "某企业非法倾倒危险废物，数量较大", "district": "jinshan",
     "category": "hazardous_industrial_solid_waste", "source": "督察", "facts": {"suspected_crime": True}},
])
def test_remembered_decisions_are_never_shared_between_results(engines, matter):
    """Decisions on a path are remembered (resolver.py), but each Resolution owns its lists: changing one result
    (escalation, obligations, transfers, assist, basis) changes no other."""
    direct, _ = engines
    first = direct.resolve(matter)
    assert first.escalation or first.obligations or first.transfers
    pristine = direct.resolve(matter).model_dump_json()
    first.assist.append(first.lead) if first.lead else first.candidates.clear()
    first.basis.clear()
    first.warnings.append(None)
    for obligation in first.obligations:
        obligation.to.clear()
        obligation.copy_to.append(None)
    if first.escalation:
        first.escalation.to.clear()
        first.escalation.path.clear()
    first.obligations.clear()
    first.transfers.clear()
    assert direct.resolve(matter).model_dump_json() == pristine


def test_a_title_with_more_features_than_one_ruleset_holds_falls_back_to_the_packed_rulesets(make_rulebook):
    """Classify rules share one ruleset when the features of a fact leave room on durable's matching stack
    (compiler.FeatureLoad); a title naming 70 rule words at once is matched on the statically packed rulesets
    instead — no error 303, the same answer as the reference matcher."""
    words = [f"词{i:02d}" for i in range(70)]
    rules = "".join(f"  - {{id: c{i}, title: t, cite: 第一条, when: {{title: {{contains: {w}}}}}, set: {{facts.w{i}: true}}}}\n"
                    for i, w in enumerate(words))
    path = make_rulebook({"classify/words.yaml": "stage: classify\nsource: 测试依据\nrules:\n" + rules})
    rulebook = load_rulebook(path)
    stage = rulebook.compiled.stages["classify"]
    assert len(stage.merged) == 1 < len(stage.rulesets)
    with Engine(rulebook, today=lambda: TODAY) as direct, \
            Engine(rulebook, today=lambda: TODAY, matcher="reference") as reference:
        for title in ("".join(words), "".join(words[:40]), words[3] + words[9], "无关"):
            matter = {"id": "w", "title": title}
            got = direct.resolve(matter)
            assert got.status != "invalid"
            assert got.model_dump_json() == reference.resolve(matter).model_dump_json()
        assert len([b for b in direct.resolve({"id": "w", "title": "".join(words)}).basis if b.stage == "classify"]) == 70


def test_a_resolution_is_what_model_construct_would_build(engines, rows):
    """The resolver builds each Resolution without pydantic's model_construct loop (resolver._built); the result must
    be the same object state: every field, in the model's order, all of them set."""
    direct, _ = engines
    for row in rows[:50]:
        got = direct.resolve(row)
        if got.status == "invalid":
            continue
        same = Resolution.model_construct(**got.__dict__)
        assert list(got.__dict__) == list(Resolution.model_fields)
        assert got == same and got.model_fields_set == same.model_fields_set
        assert got.__pydantic_extra__ is None and got.__pydantic_private__ is None
        assert got.model_dump_json() == same.model_dump_json()


def test_text_features_are_exactly_the_words_a_title_contains(engines, rows):
    """facts.FeatureTable finds every rule word with one automaton per field: the same features as looking each
    word up in the title, on every fixture and ticket title and on titles made of rule words run together."""
    direct, _ = engines
    table = direct.rulebook.compiled.stages["classify"].features
    words = [w for feature in table.features for w in feature.words]
    titles = [row["title"] for row in rows if isinstance(row.get("title"), str)]
    titles += ["".join(words[i:i + 7]) for i in range(0, len(words), 5)] + ["", "油", words[0] * 3]
    heard = {f.id for f in table.features if f.sound}  # sounds_like: heard by sounds.py, not looked up
    for title in titles:
        expected = {f.id for f in table.features if f.pattern is None and not f.sound
                    and any(fold(w) in fold(title) for w in f.words)}
        assert set(table.compute({"title": title})) - heard == expected, title


def test_sounds_like_features_are_what_the_sound_index_hears(engines, rows):
    """`sounds_like` words are found by an automaton over the text as it sounds (facts.FeatureTable): the same
    words the reference (tests/test_sounds.py SoundIndex) hears, on every title and on each word written with other characters read alike."""
    from ecorules.sounds import reading_table
    from test_sounds import SoundIndex

    direct, _ = engines
    readings = reading_table()
    alike = {char: chars for chars in readings.values() for char in chars}
    checked = 0
    for stage in direct.rulebook.compiled.stages.values():
        table = stage.features
        sound = [f for f in table.features if f.sound and f.path == "title"]
        if not sound:
            continue
        words = [w for f in sound for w in f.words]
        index = SoundIndex([(w, w) for w in words], readings)
        typos = ["".join(next((c for c in alike.get(ch, ch) if c != ch), ch) for ch in w) for w in words]
        titles = [row["title"] for row in rows if isinstance(row.get("title"), str)] + typos + \
            ["楼下" + t + "很大" for t in typos] + ["", "饭点油眼，饶民"]
        ids = {f.id for f in sound}
        for title in titles:
            heard = index.find(title)
            expected = {f.id for f in sound if heard.intersection(f.words)}
            assert set(table.compute({"title": title})) & ids == expected, title
            checked += bool(expected)
    assert checked > 50
