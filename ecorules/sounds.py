"""Does a text contain a word as it sounds? The `sounds_like` test: 饭点油眼 饶民 is heard as 饭店油烟 扰民.

One job: `SoundIndex(words).find(text)` → the ids of the words heard in the text. A character is heard as a word's
character when the two have the same everyday reading, tones ignored (pinyin input methods type without tones,
which is how these typos arise). Only a character's first reading counts: the rare readings of polyphones would
hear words that are not there (厂 is also yán: 炼油厂 is not 油烟). The readings are pypinyin's, for the common CJK
block, shipped as data/readings.tsv (data/make_readings.py). For each word's characters the index
keeps the set of characters that sound alike, built once; finding is then a set look-up per character.
"""
from __future__ import annotations

from importlib import resources
from typing import Iterable


def reading_table() -> dict[str, str]:
    """{toneless reading: the characters read that way}."""
    text = resources.files("ecorules").joinpath("data/readings.tsv").read_text(encoding="utf-8")
    return dict(line.split("\t", 1) for line in text.splitlines() if line)


class SoundIndex:
    """Built once per compiled stage; read-only afterwards (safe to share between threads)."""

    def __init__(self, words: Iterable[tuple[str, str]], table: dict[str, str]):
        readings: dict[str, set] = {}            # character → its readings (only the characters of the words)
        wanted = {char for word, _ in words for char in word}
        for reading, chars in table.items():
            for char in wanted.intersection(chars):
                readings.setdefault(char, set()).add(reading)
        # a word as a tuple of character sets: position j holds every character sharing a reading with word[j]
        shapes = [(word_id, tuple(frozenset("".join(table[r] for r in readings[char])) for char in word))
                  for word, word_id in words if hearable(word, readings)]
        first: dict[str, list] = {}
        for shape in shapes:
            for char in shape[1][0]:
                first.setdefault(char, []).append(shape)
        self._by_first = {char: tuple(items) for char, items in first.items()}

    def find(self, text: str) -> set:
        found = set()
        n = len(text)
        for i, char in enumerate(text):
            for word_id, shape in self._by_first.get(char, ()):
                if word_id not in found and i + len(shape) <= n and \
                        all(text[i + j] in shape[j] for j in range(1, len(shape))):
                    found.add(word_id)
        return found


def hearable(word: str, readings: dict) -> bool:
    """Two or more characters, each with a reading (a common Chinese character)."""
    return len(word) >= 2 and all(char in readings for char in word)


def unhearable(words: Iterable[str]) -> list[str]:
    """The words `sounds_like` cannot hear (for the rule check)."""
    table = reading_table()
    known = set("".join(table.values()))
    return [w for w in words if len(w) < 2 or not set(w) <= known]
