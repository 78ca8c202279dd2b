"""Does a text contain a word as it sounds? The `sounds_like` test: 饭点油眼 饶民 is heard as 饭店油烟 扰民.

One job: which characters sound alike. A character is heard as another when the two have the same everyday
reading, tones ignored (pinyin input methods type without tones, which is how these typos arise). Only a
character's first reading counts: the rare readings of polyphones would hear words that are not there (厂 is also
yán: 炼油厂 is not 油烟). The readings are pypinyin's, for the common CJK block, shipped as data/readings.tsv
(data/make_readings.py). `Readings.heard_as(text)` writes every character as the first character read the same
way, so "the text sounds like the word" is "heard_as(word) is in heard_as(text)" — facts.FeatureTable runs that
as one automaton; conditions.py uses `hearable` for E316.
"""
from __future__ import annotations

from importlib import resources
from typing import Iterable


def reading_table() -> dict[str, str]:
    """{toneless reading: the characters read that way}."""
    text = resources.files("ecorules").joinpath("data/readings.tsv").read_text(encoding="utf-8")
    return dict(line.split("\t", 1) for line in text.splitlines() if line)


class Readings:
    """The reading table, made ready once by its owner (a compiled stage, a rulebook parse); read-only after."""

    def __init__(self, table: dict[str, str] | None = None):
        table = table if table is not None else reading_table()
        self.known = frozenset(char for chars in table.values() for char in chars)
        # a character → the first character read the same way (each character has one reading in the table)
        self._sound_of = str.maketrans({char: chars[0] for chars in table.values() for char in chars})

    def heard_as(self, text: str) -> str:
        return text.translate(self._sound_of)

    def hearable(self, word: str) -> bool:
        """Two or more characters, each with a reading (a common Chinese character)."""
        return len(word) >= 2 and set(word) <= self.known

    def unhearable(self, words: Iterable[str]) -> list[str]:
        """The words `sounds_like` cannot hear (for the rule check)."""
        return [word for word in words if not self.hearable(word)]
