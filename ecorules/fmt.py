"""`ecorules fmt`: rewrite rule files in one layout without touching their data or their comments.

Keys are put in the order of the fields in spec.py (keys spec.py does not know follow, as written);
mappings whose keys are data (`when`, `set`, `matter`, …) keep the author's order. Layout: 2-space
indentation, sequences indented under their key, flow collections and quotes as written, no folding.

ruamel.yaml's round trip keeps comments, but it files a full-line comment under whatever ends just
above it (often the last value of the previous rule), so moving keys would carry comments to the
wrong place. We therefore re-home every full-line comment on the key or item below it before
reordering. Two checks guard the result: the data must load equal, and every comment must still
be there; otherwise the file is refused rather than rewritten.
"""
from __future__ import annotations

import bisect
import collections
import io
import os
import re
import tempfile
import types
import typing
from pathlib import Path
from typing import Iterable, Optional, Union

import yaml
from pydantic import BaseModel
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, merge_attrib
from ruamel.yaml.error import CommentMark, YAMLError
from ruamel.yaml.representer import RoundTripRepresenter
from ruamel.yaml.tokens import CommentToken

from . import spec as S
from ._yaml import load_yaml, syntax_diagnostic
from .errors import Diagnostic, EcorulesError, Location, RulebookError
from .files import MAX_FILES, FileProblem, read_bytes, too_many_files, yaml_files

INDENT = 2            # spaces per level; a sequence's dashes sit INDENT under their key
_NO_FOLDING = 1 << 30  # line width: long Chinese lines stay on one line
_SAFE = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the checks read each file twice: libyaml when present

Line = tuple[int, str]  # a full-line comment as (indentation, text); (0, "") is a blank line


class FmtError(EcorulesError):
    """fmt refused a file it could not rewrite without losing a comment or changing the data
    (not formats.FormatError, which is about matter files)."""

    def __init__(self, location: Location, message: str, suggestion: str = "", code: str = "E120"):
        self.location = location
        self.message = message
        self.suggestion = suggestion
        self.code = code  # E120: fmt refused the file; E121: could not write it; E100: no such file or directory
        super().__init__(self.format_message())

    def format_message(self) -> str:
        return f"{self.location}: {self.code} {self.message}" + (f" {self.suggestion}" if self.suggestion else "")


class _Representer(RoundTripRepresenter):
    def represent_none(self, data):
        return self.represent_scalar("tag:yaml.org,2002:null", "null")  # the files write `null`, not nothing


_Representer.add_representer(type(None), _Representer.represent_none)


def _round_trip() -> YAML:
    rt = YAML()  # a fresh instance per file: ruamel's YAML objects keep state between calls
    rt.Representer = _Representer
    rt.indent(mapping=INDENT, sequence=2 * INDENT, offset=INDENT)
    rt.width = _NO_FOLDING
    rt.preserve_quotes = True
    rt.allow_unicode = True
    return rt


# ---------------------------------------------------------------- the public API
def format_text(text: str, path: str = "<string>") -> str:
    """The text of one YAML file in canonical form. Raises RulebookError (E1xx) for a file that does
    not load, FmtError when the result would lose a comment or change the data."""
    _, problems = load_yaml(text, path)  # the loader `check` uses: same codes, same positions
    if problems:
        raise RulebookError(problems)
    try:
        tree = _round_trip().load(text)
    except YAMLError as exc:  # PyYAML read it but ruamel (YAML 1.2) does not: rare
        if getattr(exc, "problem_mark", None) is not None:
            raise RulebookError([syntax_diagnostic(exc, path)]) from None
        raise FmtError(Location(path, 1, 1), f"ruamel.yaml 无法读取该文件：{exc}") from None
    if not isinstance(tree, CommentedMap):
        return text  # empty, comments only, or not a mapping (not a rulebook file): left as written

    comments = _Comments()
    comments.lift(tree, 0)
    _reorder(tree, _file_model(tree))
    comments.attach(tree)
    out = _dump(tree) + "".join(f"{' ' * indent}{body}\n" for indent, body in _trim(comments.pending))

    if yaml.load(out, Loader=_SAFE) != yaml.load(text, Loader=_SAFE):  # = yaml.safe_load
        raise FmtError(Location(path, 1, 1), "格式化会改变文件的数据，文件未改动（这是 ecorules fmt 的缺陷）。",
                       "请把该文件报告给维护者。")
    _check_comments_kept(text, out, path)
    return out


def format_paths(paths: Iterable[Union[str, os.PathLike]], check: bool = False) -> list[Path]:
    """Formats every *.yaml / *.yml file under `paths` (directories are walked, files taken as given),
    in sorted order. Returns the files that changed — with check=True, that would change; nothing is
    written then. All files are formatted before any is written: one that cannot be formatted (or
    read, or written) stops the run with every file's diagnostics and leaves all files as they were.
    A symlinked file is rewritten through the link: the target changes, the link stays a link."""
    paths = [Path(p) for p in paths]
    missing = [p for p in paths if not p.exists() and not p.is_symlink()]
    if missing:
        raise FmtError(Location(str(missing[0])), "文件或目录不存在。", code="E100")
    problems: list[Diagnostic] = []

    def unreadable(file: Path, problem: FileProblem):
        problems.append(Diagnostic(problem.code, problem.message, Location(str(file), 1, 1), suggestion=problem.suggestion))

    files: set[Path] = set()
    for p in paths:
        if p.is_dir():
            found = yaml_files(p, unreadable)
            if len(found) > MAX_FILES:  # reported at the first file left unread
                unreadable(found[MAX_FILES], too_many_files())
                found = found[:MAX_FILES]
            files.update(found)
        else:
            files.add(p)
    changed: dict[Path, str] = {}
    for file in sorted(files):
        try:
            text = _read(file)
            new = format_text(text, str(file))
        except RulebookError as exc:
            problems.extend(exc.diagnostics)
            continue
        if new != text:
            changed[file] = new
    if not check:
        problems += [_cannot_write(file, reason) for file in changed if (reason := _unwritable(file))]
    if problems:
        raise RulebookError(problems)
    if not check:
        written: list[Path] = []
        for file, new in changed.items():
            try:
                _write_atomically(file, new)
            except OSError as exc:
                done = f"（已写入：{', '.join(map(str, written))}）" if written else "（没有文件被改写）"
                raise RulebookError([_cannot_write(file, f"{exc.strerror or exc}{done}")]) from None
            written.append(file)
    return list(changed)


def _unwritable(file: Path) -> Optional[str]:
    """Why `file` (through any symlink) cannot be replaced, or None."""
    target = Path(os.path.realpath(file))
    if not os.access(target.parent, os.W_OK | os.X_OK):
        return f"所在目录 {target.parent} 不可写"
    if not os.access(target, os.W_OK):
        return "文件是只读的"
    return None


def _cannot_write(file: Path, reason: str) -> Diagnostic:
    return Diagnostic("E121", f"无法写入格式化后的文件：{reason}；文件未改动", Location(str(file), 1, 1),
                      suggestion="检查文件和目录的权限；只想检查格式时用 ecorules fmt --check。")


# ---------------------------------------------------------------- comments
class _Comments:
    """Full-line comments taken out of ruamel's slots and filed under the key or item below them.

    ruamel keeps a comment as the tail of the value ending above it, or as a "before the first
    child" note on a collection; here every block of full-line comments (blank lines included)
    belongs to the next key or sequence item in the file, so it moves with that key. End-of-line
    comments stay where they are. Comment indentation follows its key's new indentation.
    """

    def __init__(self):
        self.pending: list[Line] = []  # lines read, waiting for the next key or item
        self.above: dict[tuple[int, object], list[Line]] = {}
        self._taken: set[int] = set()  # ruamel files some comments twice (parent and child)
        self._seen: set[int] = set()   # collections already walked (an alias repeats its anchor)

    def lift(self, node, col: int, root: bool = True):
        """Walks `node` in file order; `col` is the column its keys or dashes will be printed at."""
        if node.fa.flow_style() or id(node) in self._seen:
            return  # ruamel keeps no comments inside [ ] or { }; _check_comments_kept reports them
        self._seen.add(id(node))
        if not root and node.ca.comment:  # before the first child (ruamel files it on the parent too)
            self._take_all(node.ca.comment[1])
            node.ca.comment = None
        is_map = isinstance(node, CommentedMap)
        for key in _keys(node):
            slots = node.ca.items.get(key) or [None] * 4
            slots[1] = self._take_all(slots[1])  # before the key or item
            # the comments above move with this key, and indent with it
            shift = col - (node.lc.key(key)[1] if is_map else node.lc.col)
            self.above[(id(node), key)] = [(max(0, i + shift), t) if t else (0, "") for i, t in self.pending]
            self.pending = []
            if is_map:  # after the key; after the value; before the value's first child
                slots[0], slots[2] = self._take(slots[0], shift), self._take(slots[2], shift)
                slots[3] = self._take_all(slots[3])
            else:       # after the item
                slots[0] = self._take(slots[0], shift)
            value = node[key]
            if isinstance(value, (CommentedMap, CommentedSeq)):
                seq_in_seq = not is_map and isinstance(value, CommentedSeq)  # printed `-   - x`
                self.lift(value, col + (2 * INDENT if seq_in_seq else INDENT), root=False)
        # after the last item, when it is a flow collection
        node.ca.end = self._take_all(node.ca.end) or []

    def attach(self, node):
        """Give each key or item its comments back, in ruamel's "before" slot, after reordering."""
        if node.fa.flow_style() or id(node) not in self._seen:
            return
        self._seen.discard(id(node))
        is_map = isinstance(node, CommentedMap)
        for key in _keys(node):
            lines = self.above.pop((id(node), key), [])
            value = node[key]
            if not is_map and isinstance(value, CommentedMap) and _keys(value):
                # a comment on the first key of `- id: …` must go above the dash, or ruamel splits the line
                lines = lines + [(max(0, i - INDENT), t) if t else (0, "")
                                 for i, t in self.above.pop((id(value), _keys(value)[0]), [])]
            if lines:
                slots = node.ca.items.setdefault(key, [None, None, None, None])
                slots[1] = [CommentToken(t + "\n" if t else "\n", CommentMark(i)) for i, t in lines]
            if isinstance(value, (CommentedMap, CommentedSeq)):
                self.attach(value)

    def _take_all(self, tokens) -> None:
        for token in tokens or []:
            self._take(token, 0, post=False)
        return None

    def _take(self, token: Optional[CommentToken], shift: int = 0, post: bool = True) -> Optional[CommentToken]:
        """Moves the full lines of `token` to pending; returns what stays: its end-of-line comment,
        moved `shift` columns with its line."""
        if token is None or id(token) in self._taken:
            return None
        self._taken.add(id(token))
        text = token.value if post else " " * token.start_mark.column + token.value
        lines = text.split("\n")[:-1] if text.endswith("\n") else text.split("\n")
        eol = None
        if post:  # the token starts where the line of the value ends: an end-of-line comment or nothing
            first, lines = lines[0], lines[1:]
            if first.strip():
                # comment lines aligned under an end-of-line comment continue it
                column, kept = token.start_mark.column, 0
                while kept < len(lines) and lines[kept].startswith(" " * column + "#"):
                    kept += 1
                column = max(0, column + shift)
                eol = CommentToken("\n".join([first] + [" " * column + line.strip() for line in lines[:kept]]) + "\n",
                                   CommentMark(column))
                lines = lines[kept:]
        self.pending += [(len(line) - len(line.lstrip()), line.strip()) for line in lines]
        return eol


def _keys(node) -> list:
    """The keys written in a mapping (not those merged in with `<<`), or the indexes of a sequence."""
    if isinstance(node, CommentedMap):
        return [key for key, _ in node.non_merged_items()]
    return list(range(len(node)))


def _trim(lines: list[Line]) -> list[Line]:
    """The comments after the last value, without blank lines at the very end of the file."""
    while lines and not lines[-1][1]:
        lines = lines[:-1]
    return lines


_COMMENT = re.compile(r"(?:^|(?<=[ \t]))#.*$", re.M)


def _comment_spans(text: str) -> list[tuple[int, str]]:
    """(offset, text) of every comment: a `#` at a line start or after a space, outside any scalar."""
    scalars = sorted((t.start_mark.index, t.end_mark.index)
                     for t in yaml.scan(text, Loader=_SAFE) if isinstance(t, yaml.ScalarToken))
    starts = [s for s, _ in scalars]
    found = []
    for match in _COMMENT.finditer(text):
        i = bisect.bisect_right(starts, match.start()) - 1
        if i < 0 or not scalars[i][0] <= match.start() < scalars[i][1]:
            found.append((match.start(), match.group().rstrip()))
    return found


def _check_comments_kept(before: str, after: str, path: str):
    """Every comment of `before` is in `after` exactly as often (its indentation may differ)."""
    spans = _comment_spans(before)
    lost = collections.Counter(comment for _, comment in spans)
    lost.subtract(comment for _, comment in _comment_spans(after))
    for offset, comment in spans:
        if lost[comment] > 0:
            line = before.count("\n", 0, offset) + 1
            col = offset - (before.rfind("\n", 0, offset) + 1) + 1
            raise FmtError(Location(path, line, col), f"格式化会丢失注释 '{comment}'，文件未改动。",
                           "写在多行 [ ] 或 { } 里面的注释无法保留：请把它移到该列表或映射的上一行。")
    if any(count < 0 for count in lost.values()):
        raise FmtError(Location(path, 1, 1), "格式化会重复注释，文件未改动（这是 ecorules fmt 的缺陷）。",
                       "请把该文件报告给维护者。")


# ---------------------------------------------------------------- key order
def _file_model(tree: CommentedMap) -> Optional[type[BaseModel]]:
    """The model of this kind of file, chosen by its top-level key as the rulebook loader does."""
    kind = next((k for k in tree if k in S.FILE_KINDS), None)
    return S.FILE_KINDS.get(kind)


def _reorder(node, annotation):
    """Puts the keys of every mapping that stands for a spec model in the model's field order."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if not isinstance(node, CommentedMap):
            return
        fields = {info.alias or name: info.annotation for name, info in annotation.model_fields.items()}
        if not getattr(node, merge_attrib, None):  # keys merged in with `<<` must stay where they are
            for key in [k for k in fields if k in node] + [k for k in node if k not in fields]:
                node.move_to_end(key)
        for key, inner in fields.items():
            if key in node:
                _reorder(node[key], inner)
        return
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is list and isinstance(node, CommentedSeq):
        for item in node:
            _reorder(item, args[0])
    elif origin is dict and isinstance(node, CommentedMap):
        for value in node.values():
            _reorder(value, args[1])
    elif origin in (Union, types.UnionType):
        for option in args:
            _reorder(node, option)


# ---------------------------------------------------------------- files
def _dump(tree) -> str:
    buffer = io.StringIO()
    _round_trip().dump(tree, buffer)
    return buffer.getvalue()


def _read(file: Path) -> str:
    try:
        raw = read_bytes(file)
    except FileProblem as problem:
        raise RulebookError([Diagnostic(problem.code, problem.message, Location(str(file), 1, 1),
                                        suggestion=problem.suggestion)]) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = raw[:exc.start].decode("utf-8-sig", errors="replace")
        where = Location(str(file), before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1)
        raise RulebookError([Diagnostic(
            "E107", f"文件不是 UTF-8 编码（第 {exc.start + 1} 字节无法按 UTF-8 读取）", where,
            suggestion="用 UTF-8 重新保存该文件（Excel / WPS / 记事本“另存为”时选 UTF-8）。")]) from None


def _write_atomically(file: Path, text: str):
    """Temp file in the same directory, then os.replace: a reader sees the old file or the new one.
    A symlink is written through: its target is replaced, the link itself is left as it is."""
    file = Path(os.path.realpath(file))
    fd, tmp = tempfile.mkstemp(dir=file.parent, prefix=f".{file.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        os.chmod(tmp, file.stat().st_mode & 0o7777)  # mkstemp creates 0600; keep the file's mode
        os.replace(tmp, file)
    except BaseException:
        os.unlink(tmp)
        raise
