"""Find known words in a short text: leftmost, longest first, never overlapping.

One job: the multi-pattern scan shared by places (地名) and mentions (部门叫法). At each position the text is
looked up, longest first, only at the lengths of the words that start with its character (titles are short; a
rulebook holds a few thousand words). Built once, read-only afterwards.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, Iterable, Iterator, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Hit(Generic[T]):
    word: str
    start: int
    value: T

    @property
    def end(self) -> int:
        return self.start + len(self.word)


class Scanner(Generic[T]):
    def __init__(self, words: Iterable[tuple[str, T]]):
        table: dict[str, T] = {}
        for word, value in words:
            if word:
                table.setdefault(word, value)  # the first value given for a word wins
        lengths: dict[str, set] = {}
        for word in table:
            lengths.setdefault(word[0], set()).add(len(word))
        self._table = table
        # first character → the lengths of the words starting with it, longest first: a position costs a few
        # dictionary look-ups however many words share its first character (上海市…, 市…)
        self._lengths = {char: tuple(sorted(sizes, reverse=True)) for char, sizes in lengths.items()}

    def __contains__(self, word: str) -> bool:
        return word in self._table

    def get(self, word: str):
        return self._table.get(word)

    def scan(self, text: str) -> Iterator[Hit[T]]:
        i, n = 0, len(text)
        table, lengths = self._table, self._lengths
        while i < n:
            for size in lengths.get(text[i], ()):
                word = text[i:i + size]
                if word in table:
                    yield Hit(word, i, table[word])
                    i += size
                    break
            else:
                i += 1
