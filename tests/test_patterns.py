"""The `matches` dialect: validation and the linear-time matcher, against Python's `re` as an oracle."""
from __future__ import annotations

import random
import re
import time

import pytest

from ecorules.patterns import MAX_REPEAT, Pattern, check_pattern

from test_differential import translate_pattern



def oracle(pattern: str) -> re.Pattern:
    """The test-only reference translation of the dialect to Python `re` (shared with the differential test)."""
    return re.compile(translate_pattern(pattern), re.S)


ATOMS = ["a", "b", "油", ".", "%d", "[ab]", "[^a]", "[a-c]", "%.", "%%", "(a|b)", "(油|烟a)", "(a*)", "(%d+)", "(a|)"]


def random_pattern(rnd: random.Random, depth: int = 0) -> str:
    parts = []
    for _ in range(rnd.randint(1, 4)):
        atom = rnd.choice(ATOMS) if depth > 1 or rnd.random() < 0.7 else "(" + random_pattern(rnd, depth + 1) + ")"
        # the oracle (Python's backtracking re) is exponential on repeats of repeats: keep those out
        nested = atom.startswith("(") and any(q in atom for q in "*+?{")
        parts.append(atom + ("" if nested else rnd.choice(["", "", "*", "+", "?", "{2}", "{0,2}"])))
    text = "".join(parts)
    return text + "|" + random_pattern(rnd, depth + 1) if rnd.random() < 0.2 else text


def test_matcher_agrees_with_re_on_random_patterns():
    rnd = random.Random(20261127)
    checked = 0
    for _ in range(1500):
        pattern = random_pattern(rnd)
        if check_pattern(pattern):
            continue
        mine, theirs = Pattern(pattern), oracle(pattern)
        for _ in range(8):
            text = "".join(rnd.choice("ab油烟1.%x") for _ in range(rnd.randint(0, 6)))
            assert mine.fullmatch(text) == bool(theirs.fullmatch(text)), (pattern, text)
        checked += 1
    assert checked > 1000


@pytest.mark.parametrize("pattern, text, expected", [
    (".*油烟.*", "楼下饭店油烟熏人", True),
    (".*油烟.*", "油 烟", False),
    ("%d+号", "12号", True),
    ("[^a]{2}", "cd", True),            # durable refused this (error 507)
    (".*(a*)*", "xa", True),            # durable hung on this
    ("(a|)", "", True),
    ("x(a{2}|b)", "xaa", True),
    ("[%]]", "]", True),
    ("[a-]+", "a-a", True),
    ("..", "油", False),               # `.` is one character, not one byte
])
def test_examples(pattern, text, expected):
    assert Pattern(pattern).fullmatch(text) is expected


def test_nested_repeats_stay_linear():
    pattern = Pattern(".*(%d+)+号.*")
    started = time.process_time()
    assert pattern.fullmatch("1" * 20_000 + "x") is False
    # not a timed test: a backtracking matcher would need ~2^20000 steps; this completes at all
    assert time.process_time() - started >= 0


@pytest.mark.parametrize("pattern", ["", "(a|b", "a)", "[ab", "%", "%q", "a**", "*a", "()", "a{3,1}", "\\d",
                                     "[一-龥]", f"a{{{MAX_REPEAT + 1}}}", "]", "[]", "((a{100}){100}){100}"])
def test_invalid_patterns_are_refused(pattern):
    with pytest.raises(ValueError):
        Pattern(pattern)


# ---------------------------------------------------------------- one tree: validation, cost, matching, sampling
from ecorules import Engine  # noqa: E402
from ecorules.patterns import (MAX_STEPS, MAX_WIDTH, PatternCostError, PatternError, parse_pattern,  # noqa: E402
                               sample, width)


@pytest.mark.parametrize("pattern", ["(.{0,99}){0,99}x", "((a{10}){10}){10}", "(.{0,20}){20}", "[ab]{100}[ab]{100}[ab]{100}"])
def test_patterns_whose_cost_can_explode_are_e313(pattern):
    with pytest.raises(PatternError) as caught:
        parse_pattern(pattern)
    assert caught.value.code == "E313" and str(MAX_WIDTH) in caught.value.message


@pytest.mark.parametrize("pattern", [".*(%d+)+号.*", ".*(a*)*", "%d{4}年%d{1,2}月%d{1,2}日", ".*[a-z]{1,100}.*"])
def test_nested_unbounded_repeats_are_cheap_for_this_matcher(pattern):
    # nested * and + add no states here (no backtracking): only bounded repeats multiply
    assert width(parse_pattern(pattern)) <= MAX_WIDTH


def test_the_static_bound_is_what_the_matcher_tracks():
    pattern = Pattern("(a|b){0,50}")
    assert width(pattern.tree) == 100
    assert pattern.fullmatch("ab" * 25) and not pattern.fullmatch("ab" * 26)


def test_run_time_work_is_bounded_and_does_not_depend_on_what_came_before():
    pattern = Pattern(".*a.{0,100}")
    text = "a" * 60_000
    started = time.monotonic()
    with pytest.raises(PatternCostError) as caught:
        pattern.fullmatch(text)
    assert "计算上限" in caught.value.message
    assert time.monotonic() - started < 10   # not a timed test: it used to take minutes
    # the same text after the cache is warm: the same answer (results never depend on input order)
    with pytest.raises(PatternCostError):
        pattern.fullmatch(text)
    assert pattern.fullmatch("a" * 100) is True
    assert len(text) * 100 > MAX_STEPS  # the case really is over the bound (about 101 states per character)


def test_a_too_costly_match_makes_the_matter_invalid_not_slow(make_rulebook):
    path = make_rulebook({"assign/a.yaml": """
        stage: assign
        rules:
          - {id: wide, title: t, cite: c, when: {title: {matches: ".*a.{0,100}"}}, lead: sthj}
        """})
    with Engine.from_directory(path) as engine:
        result = engine.resolve({"id": "1", "title": "a" * 59_000})
        assert result.status == "invalid" and "计算上限" in result.error.message
        assert engine.resolve({"id": "2", "title": "xa"}).lead.id == "sh.sthj"


def test_sample_is_matched_by_its_pattern():
    rnd = random.Random(7)
    checked = 0
    for _ in range(800):
        text = random_pattern(rnd)
        if check_pattern(text):
            continue
        pattern = Pattern(text)
        assert pattern.fullmatch(sample(pattern.tree)), (text, sample(pattern.tree))
        checked += 1
    assert checked > 400


def test_one_parse_validates_and_compiles():
    tree = parse_pattern(".*(油烟|噪声).*")
    assert Pattern(".*(油烟|噪声).*", tree).tree is tree
    assert check_pattern("(a") == (1, "缺少 )")
