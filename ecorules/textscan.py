"""Find known words in a short text: leftmost, longest first, never overlapping.

One job: the multi-pattern scan shared by places (地名) and mentions (部门叫法). Words are indexed by their
first character, longest first, so a ticket title is checked against the few words that can start at each
position (titles are short; a rulebook holds a few thousand words). Built once, read-only afterwards.
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
        index: dict[str, list[str]] = {}
        for word in table:
            index.setdefault(word[0], []).append(word)
        self._table = table
        self._index = {char: tuple(sorted(words, key=len, reverse=True)) for char, words in index.items()}

    def __contains__(self, word: str) -> bool:
        return word in self._table

    def get(self, word: str):
        return self._table.get(word)

    def scan(self, text: str) -> Iterator[Hit[T]]:
        i, n = 0, len(text)
        while i < n:
            for word in self._index.get(text[i], ()):
                if text.startswith(word, i):
                    yield Hit(word, i, self._table[word])
                    i += len(word)
                    break
            else:
                i += 1
