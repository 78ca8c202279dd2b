"""The sounds_like test: homophone typos (饭点油眼 → 饭店油烟) heard by everyday reading, checked by `check`."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from ecorules import Engine
from ecorules.rulebook import check_rulebook
from ecorules.sounds import Readings, reading_table


class SoundIndex:
    """The reference meaning of `sounds_like`, character by character: position j of a word is heard in any
    character with the same everyday reading as word[j]. The library runs the same thing as one automaton over
    `Readings.heard_as` (facts.FeatureTable); tests/test_matchers.py compares the two on every ticket."""

    def __init__(self, words, table):
        readings = {char: reading for reading, chars in table.items() for char in chars}
        self._shapes = [(word_id, tuple(frozenset(table[readings[char]]) for char in word))
                        for word, word_id in words if len(word) >= 2 and all(char in readings for char in word)]

    def find(self, text: str) -> set:
        return {word_id for word_id, shape in self._shapes
                for i in range(len(text) - len(shape) + 1)
                if all(text[i + j] in shape[j] for j in range(len(shape)))}

DATA = Path(__file__).resolve().parents[1] / "ecorules" / "data"


def index(*words):
    return SoundIndex([(w, w) for w in words], reading_table())


def test_a_homophone_typo_is_heard_as_the_word():
    assert index("饭店", "油烟", "扰民", "扬尘").find("饭点油眼太大！饶民，工地扬沉") == {"饭店", "油烟", "扰民", "扬尘"}


def test_a_word_written_correctly_is_heard_too_and_other_words_are_not():
    assert index("油烟").find("楼下油烟") == {"油烟"}
    assert index("油烟").find("工地噪音") == set()


def test_only_the_everyday_reading_counts():
    # 厂 has the rare reading yán: 炼油厂 must not be heard as 油烟
    assert index("油烟").find("炼油厂拆掉以后") == set()


def test_words_the_test_cannot_hear_are_reported():
    assert Readings().unhearable(["油烟", "烟", "PM2.5"]) == ["烟", "PM2.5"]


def test_the_shipped_reading_table_is_what_pypinyin_gives_today():
    pytest.importorskip("pypinyin")
    spec = importlib.util.spec_from_file_location("make_readings", DATA / "make_readings.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (DATA / "readings.tsv").read_text(encoding="utf-8") == module.table()


def test_check_refuses_a_word_sounds_like_cannot_hear(make_rulebook):
    rules = make_rulebook({"classify.yaml": (
        "stage: classify\nsource: 测试\nrules:\n"
        "  - id: cls.x\n    title: x\n    cite: 第一条\n    provenance: inference\n"
        "    when: {title: {sounds_like: [油烟, 烟]}}\n    set: {category: x}\n    priority: 1\n")})
    _, diagnostics = check_rulebook(rules)
    found = [d for d in diagnostics if d.code == "E316"]
    assert found and found[0].location.line == 8


def test_the_shipped_rulebook_hears_a_typo_ticket():
    resolution = Engine.default().resolve({"id": "t", "title": "饭点油眼太大了！！楼下那家天天炒辣椒", "district": "普陀区"})
    assert resolution.category == "catering_fumes" and resolution.lead.id == "putuo.sthj"
