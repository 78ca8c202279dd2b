"""The `matches` pattern dialect: one parser, one tree, read by validation, matching and sampling.

The dialect (docs/rulebook-format.md) is small and regular: literals, `.`, `%` escapes and classes,
`[...]` sets, groups, `|`, `* + ? {n} {n,m}`, matched against the WHOLE text. `parse_pattern` turns a
pattern into a tree of `Chars` / `Seq` / `Alt` / `Repeat` nodes, or raises `PatternError` with the
column of the first problem. Everything else reads that tree:

* `check` (E303 for a syntax error, E313 for a pattern whose matching cost can explode: nested
  repeats multiply the states a matcher must track for every character, `(.{0,99}){0,99}x` needs
  9,802 of them; the bound is MAX_WIDTH);
* `Pattern`, the matcher: a Thompson NFA built from the tree, run as a lazily built DFA (each set of
  NFA states met becomes one cached DFA state), so the cost is linear in the text — never the
  exponential backtracking of Python's `re` — and usually one dict look-up per character. A run is
  also bounded at MAX_STEPS units of work: a text and pattern that would need more make the matter
  `invalid` (PatternCostError) instead of holding a batch up for minutes;
* `sample`, the shortest-ish text a pattern matches (lint builds witness matters from it).

Why a hand-written matcher and not google-re2 or Python's `re`: `re` backtracks (exponential on
`(a*)*b`); re2 would be a second compiled dependency next to durable_rules for a feature the shipped
rules use 0 times, and it still needs this dialect translated by a parser like this one; the lazy
DFA gives the same linear guarantee in pure Python, ≈ 7.7× faster than the NFA simulation it replaced
(benchmarks/test_pattern_speed.py; docs/rulebook-format.md).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional, Union

from .errors import MatterError

_SPECIALS = set("%.*+?[](){}|")
_CLASSES = set("dawlu")
MAX_REPEAT = 100    # {n,m} bounds
MAX_WIDTH = 256     # character states of the NFA = the most a matcher tracks per character (E313 above)
MAX_STEPS = 4_000_000  # work one match may use: the NFA state-set size, summed over the characters
_MAX_DFA_STATES = 4_096  # cached DFA states per pattern; the cache is emptied when full
_REPEAT = re.compile(r"\{(\d+)(,(\d+))?\}")


class PatternError(ValueError):
    """A pattern outside the dialect (E303) or too costly to match (E313); `column` is 0-based."""

    def __init__(self, column: int, message: str, code: str = "E303"):
        super().__init__(f"column {column + 1}: {message}")
        self.column, self.message, self.code = column, message, code


class PatternCostError(MatterError):
    """Matching one text against one pattern needed more than MAX_STEPS units of work."""


# ---------------------------------------------------------------- the tree
@dataclass(frozen=True)
class Chars:
    """One character out of a set: literal characters, ASCII ranges, %-classes; `negate` for [^...];
    `any` for `.`."""

    chars: frozenset = frozenset()
    ranges: tuple = ()
    classes: tuple = ()
    negate: bool = False
    any: bool = False

    def __contains__(self, c: str) -> bool:
        if self.any:
            return True
        hit = c in self.chars or any(low <= c <= high for low, high in self.ranges) or \
            any(_CLASS_TESTS[k](c) for k in self.classes)
        return hit != self.negate


@dataclass(frozen=True)
class Seq:
    items: tuple


@dataclass(frozen=True)
class Alt:
    options: tuple


@dataclass(frozen=True)
class Repeat:
    item: "Node"
    low: int
    high: Optional[int]  # None: unbounded
    column: int = 0      # where the repeat operator is written (for E313)


Node = Union[Chars, Seq, Alt, Repeat]

_CLASS_TESTS = {
    "d": lambda c: "0" <= c <= "9",
    "a": lambda c: c.isascii() and c.isalpha(),
    "w": lambda c: c.isascii() and c.isalnum(),
    "l": lambda c: "a" <= c <= "z",
    "u": lambda c: "A" <= c <= "Z",
}


# ---------------------------------------------------------------- the one parser
def parse_pattern(pattern: str) -> Node:
    """The tree of a pattern; PatternError (E303) at the first problem, E313 when it is too costly."""
    if not pattern:
        raise PatternError(0, "模式为空")
    parser = _Parser(pattern)
    node = parser.alternatives()
    if parser.pos < len(pattern):  # only a `)` stops the top level early
        raise PatternError(parser.pos, "多余的 )")
    _check_cost(node, pattern)
    return node


class _Parser:
    def __init__(self, text: str):
        self.text, self.pos, self.depth = text, 0, 0

    def alternatives(self) -> Node:
        options = [self.sequence()]
        while self.pos < len(self.text) and self.text[self.pos] == "|":
            self.pos += 1
            options.append(self.sequence())
        return options[0] if len(options) == 1 else Alt(tuple(options))

    def sequence(self) -> Node:
        items: list = []
        text = self.text
        while self.pos < len(text) and text[self.pos] not in "|)":
            atom = self.atom()
            while self.pos < len(text) and text[self.pos] in "*+?{":
                if isinstance(atom, Repeat) and not atom.column < 0:
                    ch = text[self.pos]
                    if ch == "{":
                        raise PatternError(self.pos, "重复次数应写作 {n} 或 {n,m}，且前面要有可重复的内容")
                    raise PatternError(self.pos, f"'{ch}' 前面没有可重复的内容")
                atom = self.repeat(atom)
            items.append(atom)
        return items[0] if len(items) == 1 else Seq(tuple(items))

    def repeat(self, atom: Node) -> Repeat:
        text, start = self.text, self.pos
        ch = text[start]
        if ch in "*+?":
            self.pos += 1
            low, high = {"*": (0, None), "+": (1, None), "?": (0, 1)}[ch]
            return Repeat(atom, low, high, start)
        match = _REPEAT.match(text, start)
        if not match:
            raise PatternError(start, "重复次数应写作 {n} 或 {n,m}，且前面要有可重复的内容")
        low = int(match.group(1))
        high = int(match.group(3)) if match.group(3) is not None else low
        if high < low:
            raise PatternError(start, "{n,m} 中 m 不能小于 n")
        if max(low, high) > MAX_REPEAT:
            raise PatternError(start, f"重复次数不能超过 {MAX_REPEAT}")
        self.pos = match.end()
        return Repeat(atom, low, high, start)

    def atom(self) -> Node:
        text, pos = self.text, self.pos
        ch = text[pos]
        if ch == "\\":
            raise PatternError(pos, "不允许反斜杠；特殊字符前请用 %")
        if ch in "*+?":
            raise PatternError(pos, f"'{ch}' 前面没有可重复的内容")
        if ch == "{":
            raise PatternError(pos, "重复次数应写作 {n} 或 {n,m}，且前面要有可重复的内容")
        if ch in "}]":
            raise PatternError(pos, f"多余的 '{ch}'（作为普通字符请写 %{ch}）")
        if ch == "%":
            self.pos += 2
            return self.escape(pos)
        if ch == ".":
            self.pos += 1
            return Chars(any=True)
        if ch == "[":
            return self.char_set()
        if ch == "(":
            if pos + 1 < len(text) and text[pos + 1] == ")":
                raise PatternError(pos, "空的分组 ()")
            self.pos += 1
            inner = self.alternatives()
            if self.pos >= len(text):
                raise PatternError(len(text) - 1, "缺少 )")
            self.pos += 1  # the `)`
            # a group can be repeated even when its content ends with a repeat: mark it as a fresh atom
            return Repeat(inner, 1, 1, -1) if isinstance(inner, Repeat) else inner
        self.pos += 1
        return Chars(frozenset(ch))

    def escape(self, pos: int) -> Chars:
        text = self.text
        if pos + 1 >= len(text):
            raise PatternError(pos, "% 后缺少字符")
        nxt = text[pos + 1]
        if nxt in _CLASSES:
            return Chars(classes=(nxt,))
        if nxt in _SPECIALS:
            return Chars(frozenset(nxt))
        raise PatternError(pos, f"'%{nxt}' 不是可用的转义或字符类（可用 %d %a %w %l %u 及 %. %* 等）")

    def char_set(self) -> Chars:
        text, start = self.text, self.pos
        end = start + 1
        negate = end < len(text) and text[end] == "^"
        if negate:
            end += 1
        first = end
        chars, ranges, classes = set(), [], []
        while end < len(text) and text[end] != "]":
            ch = text[end]
            if ch == "%":
                if end + 1 >= len(text) or (text[end + 1] not in _SPECIALS and text[end + 1] not in _CLASSES):
                    raise PatternError(end, "字符集中 % 后只能跟特殊字符或 d a w l u")
                if text[end + 1] in _CLASSES:
                    classes.append(text[end + 1])
                else:
                    chars.add(text[end + 1])
                end += 2
                continue
            if ch == "\\":
                raise PatternError(end, "不允许反斜杠")
            if end + 2 < len(text) and text[end + 1] == "-" and text[end + 2] != "]":
                low, high = ch, text[end + 2]
                if not (low.isascii() and high.isascii()) or low > high:
                    raise PatternError(end + 1, "字符范围只能是 ASCII 且由小到大（如 a-z、0-9）")
                ranges.append((low, high))
                end += 3
                continue
            chars.add(ch)
            end += 1
        if end >= len(text):
            raise PatternError(start, "字符集缺少 ]")
        if end == first:
            raise PatternError(start, "字符集为空")
        self.pos = end + 1
        return Chars(frozenset(chars), tuple(ranges), tuple(classes), negate)


# ---------------------------------------------------------------- cost
def width(node: Node) -> int:
    """Character states of the NFA built from `node`: the most a matcher tracks for one character."""
    if isinstance(node, Chars):
        return 1
    if isinstance(node, Seq):
        return sum(width(n) for n in node.items)
    if isinstance(node, Alt):
        return sum(width(n) for n in node.options)
    copies = node.high if node.high is not None else node.low + 1
    return width(node.item) * max(copies, 1)


def _check_cost(node: Node, pattern: str):
    total = width(node)
    if total <= MAX_WIDTH:
        return
    column = next((r.column for r in _repeats(node) if r.column >= 0 and width(r) > MAX_WIDTH // 4), 0)
    raise PatternError(column, f"匹配代价可能失控：嵌套或过大的重复使每个字符要跟踪 {total} 个状态（上限 {MAX_WIDTH}），"
                               "长文本会极慢", code="E313")


def _repeats(node: Node):
    """Repeat nodes, outermost first."""
    if isinstance(node, Repeat):
        yield node
        yield from _repeats(node.item)
    elif isinstance(node, Seq):
        for item in node.items:
            yield from _repeats(item)
    elif isinstance(node, Alt):
        for option in node.options:
            yield from _repeats(option)


def check_pattern(pattern: str) -> Optional[tuple[int, str]]:
    """(0-based column, problem) for a pattern outside the dialect or too costly, else None."""
    try:
        parse_pattern(pattern)
    except PatternError as exc:
        return exc.column, exc.message
    return None


# ---------------------------------------------------------------- sampling
def sample(node: Node) -> str:
    """A short text the pattern matches: first alternative, fewest repetitions."""
    if isinstance(node, Chars):
        return _sample_char(node)
    if isinstance(node, Seq):
        return "".join(sample(n) for n in node.items)
    if isinstance(node, Alt):
        return sample(node.options[0])
    return sample(node.item) * node.low


def _sample_char(chars: Chars) -> str:
    if chars.any:
        return "x"
    candidates = [*sorted(chars.chars), *(low for low, _ in chars.ranges),
                  *({"d": "1", "a": "a", "w": "a", "l": "a", "u": "A"}[k] for k in chars.classes)]
    if chars.negate:
        candidates = ["x", "y", "z", "0", "字"]
    return next(c for c in candidates if c in chars)


# ---------------------------------------------------------------- the matcher
class Pattern:
    """A validated pattern, compiled once from its tree; `fullmatch(text)` in time linear in the text."""

    def __init__(self, pattern: str, tree: Optional[Node] = None):
        self.pattern = pattern
        self.tree = tree if tree is not None else parse_pattern(pattern)
        self._tests: list[Optional[Chars]] = []   # per NFA state: the character it takes, or None (epsilon)
        self._out: list[list[int]] = []
        self._accept = self._state(None)
        self._start = self._build(self.tree, self._accept)
        self._dfa: dict[frozenset, tuple] = {}    # NFA state set → (the set, accepting, {char: next DFA state})

    def _state(self, test: Optional[Chars], out: Optional[list] = None) -> int:
        self._tests.append(test)
        self._out.append(out or [])
        return len(self._tests) - 1

    def _build(self, node: Node, then: int) -> int:
        """States for `node`, continuing to `then`; returns the entry state."""
        if isinstance(node, Chars):
            return self._state(node, [then])
        if isinstance(node, Seq):
            for item in reversed(node.items):
                then = self._build(item, then)
            return then
        if isinstance(node, Alt):
            return self._state(None, [self._build(option, then) for option in node.options])
        state = then
        if node.high is None:          # x*: a loop state that may take x and come back, or go on
            loop = self._state(None)
            self._out[loop] = [self._build(node.item, loop), then]
            state = loop
        else:                          # x{low,high}: high - low nested optional copies after the low ones
            for _ in range(node.high - node.low):
                state = self._state(None, [self._build(node.item, state), then])
        for _ in range(node.low):
            state = self._build(node.item, state)
        return state

    def _closure(self, states) -> frozenset:
        """The character states (and the accepting state) reachable through epsilon moves."""
        seen, found, stack = set(), set(), list(states)
        tests, out = self._tests, self._out
        while stack:
            state = stack.pop()
            if state in seen:
                continue
            seen.add(state)
            if tests[state] is None and state != self._accept:
                stack.extend(out[state])
            else:
                found.add(state)
        return frozenset(found)

    def _dfa_state(self, states: frozenset) -> tuple:
        known = self._dfa.get(states)
        if known is None:
            if len(self._dfa) >= _MAX_DFA_STATES:
                self._dfa.clear()
            known = self._dfa[states] = (states, self._accept in states, {})
        return known

    def fullmatch(self, text: str) -> bool:
        """Does the pattern match the whole text? PatternCostError past MAX_STEPS. The work counted is what an
        NFA simulation would do (the state-set size, per character), whatever the cache holds: the same text
        gets the same answer whatever was matched before (results never depend on input order)."""
        current = self._dfa_state(self._closure([self._start]))
        steps = 0
        tests, out = self._tests, self._out
        for char in text:
            steps += len(current[0])
            if steps > MAX_STEPS:
                raise PatternCostError(f"文字过长或模式 '{self.pattern}' 过于复杂：匹配超出计算上限（{MAX_STEPS} 步）")
            following = current[2].get(char)
            if following is None:
                moved = [nxt for state in current[0] if tests[state] is not None and char in tests[state]
                         for nxt in out[state]]
                following = self._dfa_state(self._closure(moved))
                current[2][char] = following
            current = following
            if not current[0]:
                return False
        return current[1]
