"""The `matches` pattern dialect: validation for `check`, and a matcher that runs in linear time.

The dialect (docs/rulebook-format.md) is small and regular: literals, `.`, `%` escapes and classes,
`[...]` sets, groups, `|`, `* + ? {n} {n,m}`, matched against the WHOLE text. It is compiled to a
Thompson NFA and simulated state-set by state-set, so a pattern like `.*(%d+)+号.*` costs time
proportional to the text, never exponential (Python's backtracking `re` would stall on it, and
durable's own regex operator answers wrongly — see compiler.py).
"""
from __future__ import annotations

import re
from typing import Callable, Optional

_SPECIALS = set("%.*+?[](){}|")
_CLASSES = set("dawlu")
MAX_REPEAT = 100  # {n,m} bounds: the NFA grows with them
MAX_STATES = 20_000  # nested {n,m} multiply; beyond this a pattern is refused (E303)
_CLASS_TESTS: dict[str, Callable[[str], bool]] = {
    "d": lambda c: "0" <= c <= "9",
    "a": lambda c: c.isascii() and c.isalpha(),
    "w": lambda c: c.isascii() and c.isalnum(),
    "l": lambda c: "a" <= c <= "z",
    "u": lambda c: "A" <= c <= "Z",
}


def check_pattern(pattern: str) -> Optional[tuple[int, str]]:
    """Validate a `matches` pattern against the documented dialect; (0-based column, problem) or None."""
    pos = 0
    n = len(pattern)
    depth = 0
    can_repeat = False
    if not pattern:
        return 0, "模式为空"
    while pos < n:
        ch = pattern[pos]
        if ch == "\\":
            return pos, "不允许反斜杠；特殊字符前请用 %"
        if ch == "%":
            if pos + 1 >= n:
                return pos, "% 后缺少字符"
            nxt = pattern[pos + 1]
            if nxt not in _SPECIALS and nxt not in _CLASSES:
                return pos, f"'%{nxt}' 不是可用的转义或字符类（可用 %d %a %w %l %u 及 %. %* 等）"
            pos += 2
            can_repeat = True
            continue
        if ch == "[":
            end = pos + 1
            if end < n and pattern[end] == "^":
                end += 1
            start = end
            while end < n and pattern[end] != "]":
                if pattern[end] == "%":
                    if end + 1 >= n or (pattern[end + 1] not in _SPECIALS and pattern[end + 1] not in _CLASSES):
                        return end, "字符集中 % 后只能跟特殊字符或 d a w l u"
                    end += 2
                    continue
                if pattern[end] == "\\":
                    return end, "不允许反斜杠"
                if pattern[end] == "-" and end > start and end + 1 < n and pattern[end + 1] != "]":
                    low, high = pattern[end - 1], pattern[end + 1]
                    if not (low.isascii() and high.isascii()) or low > high:
                        return end, "字符范围只能是 ASCII 且由小到大（如 a-z、0-9）"
                end += 1
            if end >= n:
                return pos, "字符集缺少 ]"
            if end == start:
                return pos, "字符集为空"
            pos = end + 1
            can_repeat = True
            continue
        if ch == "(":
            if pos + 1 < n and pattern[pos + 1] == ")":
                return pos, "空的分组 ()"
            depth += 1
            can_repeat = False
            pos += 1
            continue
        if ch == ")":
            if depth == 0:
                return pos, "多余的 )"
            depth -= 1
            can_repeat = True
            pos += 1
            continue
        if ch == "|":
            can_repeat = False
            pos += 1
            continue
        if ch in "*+?":
            if not can_repeat:
                return pos, f"'{ch}' 前面没有可重复的内容"
            can_repeat = False
            pos += 1
            continue
        if ch == "{":
            match = re.match(r"\{(\d+)(,(\d+))?\}", pattern[pos:])
            if not match or not can_repeat:
                return pos, "重复次数应写作 {n} 或 {n,m}，且前面要有可重复的内容"
            low, high = int(match.group(1)), match.group(3)
            if high is not None and int(high) < low:
                return pos, "{n,m} 中 m 不能小于 n"
            if max(low, int(high or 0)) > MAX_REPEAT:
                return pos, f"重复次数不能超过 {MAX_REPEAT}"
            can_repeat = False
            pos += match.end()
            continue
        if ch in "}]":
            return pos, f"多余的 '{ch}'（作为普通字符请写 %{ch}）"
        can_repeat = True
        pos += 1
    if depth:
        return n - 1, "缺少 )"
    return None


class _State:
    __slots__ = ("test", "out")

    def __init__(self, test=None, out=None):
        self.test = test          # None: an epsilon state; else a predicate on one character
        self.out = out or []      # next states


class Pattern:
    """A validated pattern, compiled once; `fullmatch(text)` in O(len(text) × states)."""

    def __init__(self, pattern: str):
        problem = check_pattern(pattern)
        if problem:
            raise ValueError(f"invalid pattern {pattern!r} at column {problem[0] + 1}: {problem[1]}")
        self.pattern = pattern
        self._pos = 0
        self._budget = [MAX_STATES]
        self.accept = _State()
        self.start = self._alternatives(self.accept)
        del self._pos, self._budget

    def _new(self, test=None, out=None) -> _State:
        self._budget[0] -= 1
        if self._budget[0] < 0:
            raise ValueError(f"pattern {self.pattern!r} expands to more than {MAX_STATES} states")
        return _State(test, out)

    # -- parsing straight into NFA states, continuation style: each piece is built before what follows it
    def _alternatives(self, then: _State) -> _State:
        options = [self._sequence_text()]
        while self._pos < len(self.pattern) and self.pattern[self._pos] == "|":
            self._pos += 1
            options.append(self._sequence_text())
        starts = [self._build_sequence(items, then) for items in options]
        return starts[0] if len(starts) == 1 else self._new(None, starts)

    def _sequence_text(self) -> list:
        """The items of one alternative as (kind, payload, low, high) before building states."""
        items = []
        text = self.pattern
        while self._pos < len(text) and text[self._pos] not in "|)":
            ch = text[self._pos]
            if ch == "(":
                group_start = self._pos + 1
                self._pos = _skip_group(text, self._pos)
                atom = ("group", text[group_start:self._pos - 1])
            elif ch == "[":
                end = _skip_set(text, self._pos)
                atom = ("test", _set_test(text[self._pos + 1:end - 1]))
                self._pos = end
            elif ch == "%":
                nxt = text[self._pos + 1]
                atom = ("test", _CLASS_TESTS[nxt] if nxt in _CLASS_TESTS else _literal(nxt))
                self._pos += 2
            elif ch == ".":
                atom = ("test", lambda c: True)
                self._pos += 1
            else:
                atom = ("test", _literal(ch))
                self._pos += 1
            low, high = 1, 1
            if self._pos < len(text) and text[self._pos] in "*+?":
                low, high = {"*": (0, None), "+": (1, None), "?": (0, 1)}[text[self._pos]]
                self._pos += 1
            elif self._pos < len(text) and text[self._pos] == "{":
                match = re.match(r"\{(\d+)(,(\d+))?\}", text[self._pos:])
                low = int(match.group(1))
                high = int(match.group(3)) if match.group(3) is not None else low
                self._pos += match.end()
            items.append((atom, low, high))
        return items

    def _build_sequence(self, items: list, then: _State) -> _State:
        state = then
        for atom, low, high in reversed(items):
            state = self._repeat(atom, low, high, state)
        return state

    def _atom(self, atom, then: _State) -> _State:
        kind, payload = atom
        if kind == "test":
            return self._new(payload, [then])
        return self._sub(payload, then)

    def _repeat(self, atom, low: int, high: Optional[int], then: _State) -> _State:
        state = then
        if high is None:               # x*: a loop state that may take x and come back, or go on
            loop = self._new()
            loop.out = [self._atom(atom, loop), then]
            state = loop
        else:                          # x{low,high}: high - low nested optional copies after the low ones
            for _ in range(high - low):
                state = self._new(None, [self._atom(atom, state), then])
        for _ in range(low):
            state = self._atom(atom, state)
        return state

    def _sub(self, pattern: str, then: _State) -> _State:
        inner = Pattern.__new__(Pattern)
        inner.pattern, inner._pos, inner._budget = pattern, 0, self._budget
        return inner._alternatives(then)

    # -- matching
    def fullmatch(self, text: str) -> bool:
        current = _closure([self.start])
        for char in text:
            following = [nxt for state in current if state.test is not None and state.test(char) for nxt in state.out]
            if not following:
                return False
            current = _closure(following)
        return self.accept in current


def _closure(states) -> list:
    seen: dict[int, _State] = {}
    stack = list(states)
    while stack:
        state = stack.pop()
        if id(state) in seen:
            continue
        seen[id(state)] = state
        if state.test is None:
            stack.extend(state.out)
    return list(seen.values())


def _skip_set(text: str, pos: int) -> int:
    """Index just after the `]` closing the set that starts at `pos`."""
    end = pos + 1
    if text[end] == "^":
        end += 1
    while text[end] != "]":
        end += 2 if text[end] == "%" else 1
    return end + 1


def _skip_group(text: str, pos: int) -> int:
    """Index just after the `)` closing the group that starts at `pos` (sets and escapes skipped)."""
    depth, pos = 1, pos + 1
    while depth:
        ch = text[pos]
        if ch == "%":
            pos += 2
            continue
        if ch == "[":
            pos = _skip_set(text, pos)
            continue
        depth += {"(": 1, ")": -1}.get(ch, 0)
        pos += 1
    return pos


def _literal(expected: str) -> Callable[[str], bool]:
    return lambda c: c == expected


def _set_test(body: str) -> Callable[[str], bool]:
    negate = body.startswith("^")
    if negate:
        body = body[1:]
    chars, ranges, classes = set(), [], []
    pos = 0
    while pos < len(body):
        if body[pos] == "%":
            nxt = body[pos + 1]
            if nxt in _CLASS_TESTS:
                classes.append(_CLASS_TESTS[nxt])
            else:
                chars.add(nxt)
            pos += 2
        elif pos + 2 < len(body) and body[pos + 1] == "-":
            ranges.append((body[pos], body[pos + 2]))
            pos += 3
        else:
            chars.add(body[pos])
            pos += 1

    def test(c: str) -> bool:
        hit = c in chars or any(low <= c <= high for low, high in ranges) or any(f(c) for f in classes)
        return hit != negate
    return test
