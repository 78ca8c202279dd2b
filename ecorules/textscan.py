"""Find known words in a short text: leftmost, longest first, never overlapping.

One job: the multi-pattern scan shared by places (地名) and mentions (部门叫法). At each position the text is
looked up, longest first, only at the lengths of the words that start with its character (titles are short; a
rulebook holds a few thousand words). Built once, read-only afterwards.

Latin letters are read without regard to case (Pudong, PUDONG, pudong), and a word written in Latin letters
matches only as a whole word ("Anting" is not found in "painting"); Chinese is matched as written.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Generic, Iterable, Iterator, TypeVar

T = TypeVar("T")

_LATIN_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_LATIN_CAPITAL = re.compile("[A-Z]")


def fold(text: str) -> str:
    """Latin capitals to small letters, nothing else (the length never changes, so positions stay valid)."""
    # most titles hold no Latin capital: looking for one costs a twentieth of translating every character
    return text.translate(_LATIN_LOWER) if _LATIN_CAPITAL.search(text) else text


def _latin(char: str) -> bool:
    return "a" <= char <= "z"


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
                table.setdefault(fold(word), value)  # the first value given for a word wins
        lengths: dict[str, set] = {}
        for word in table:
            lengths.setdefault(word[0], set()).add(len(word))
        self._table = table
        # first character → the lengths of the words starting with it, longest first: a position costs a few
        # dictionary look-ups however many words share its first character (上海市…, 市…)
        self._lengths = {char: tuple(sorted(sizes, reverse=True)) for char, sizes in lengths.items()}

    def __contains__(self, word: str) -> bool:
        return fold(word) in self._table

    def get(self, word: str):
        return self._table.get(fold(word))

    def scan(self, text: str) -> Iterator[Hit[T]]:
        folded = fold(text)
        i, n = 0, len(text)
        table, lengths = self._table, self._lengths
        while i < n:
            for size in lengths.get(folded[i], ()):
                if i + size > n:
                    continue
                word = folded[i:i + size]
                if word in table and self._whole(folded, i, i + size):
                    yield Hit(text[i:i + size], i, table[word])
                    i += size
                    break
            else:
                i += 1

    @staticmethod
    def _whole(text: str, start: int, end: int) -> bool:
        """A Latin word is not a piece of a longer Latin word."""
        if _latin(text[start]) and start > 0 and _latin(text[start - 1]):
            return False
        return not (_latin(text[end - 1]) and end < len(text) and _latin(text[end]))
