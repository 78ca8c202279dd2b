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
