"""Reading a rulebook directory's files: files (files.py: symlinks, FIFOs, sizes, counts; E108–E113) → YAML
(_yaml.py, bounded: E1xx) → schema (pydantic, E1xx, each error mapped back to `file:line:col` by
schema_errors.py). What is read
is kept as `Loaded` items, one per file, known by its top-level key (spec.FILE_KINDS)."""
from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass
from pathlib import Path as FsPath
from typing import Any, Iterable

from pydantic import ValidationError

from . import spec as S
from ._yaml import YamlDoc, load_yaml
from .errors import Diagnostic, Location, suggest
from .files import MAX_FILES, FileProblem, read_bytes, too_many_files, yaml_files
from .orggraph import Located
from .schema_errors import schema_diagnostics



@dataclass
class Loaded:
    path: str          # as shown in diagnostics (relative to the working directory when inside it)
    relative: str      # relative to the rulebook root: what results cite, wherever the rulebook lives
    doc: YamlDoc
    kind: str
    model: Any


class Loader:
    def __init__(self, root: FsPath, display_root: str):
        self.root = root
        self.display_root = display_root
        self.diagnostics: list[Diagnostic] = []
        self.loaded: list[Loaded] = []
        self.failed: set[str] = set()          # kinds of files that failed their schema
        self.broken_rule_ids: set[str] = set()  # rule ids written in rule files that failed their schema
        self.digest = hashlib.sha256()

    def display(self, path: FsPath) -> str:
        rel = path.relative_to(self.root).as_posix()
        return f"{self.display_root.rstrip('/')}/{rel}" if self.display_root else rel

    def read_all(self):
        paths = yaml_files(self.root, self.file_problem)
        if len(paths) > MAX_FILES:  # reported at the first file left unread
            self.file_problem(paths[MAX_FILES], too_many_files())
            paths = paths[:MAX_FILES]
        for path in paths:
            try:
                raw = read_bytes(path)
            except FileProblem as problem:
                self.file_problem(path, problem)
                continue
            self.digest.update(path.relative_to(self.root).as_posix().encode() + b"\0" + raw + b"\0")
            self.read_one(path, raw)

    def file_problem(self, path: FsPath, problem: FileProblem):
        try:
            shown = self.display(path)
        except ValueError:
            shown = str(path)
        self.diagnostics.append(Diagnostic(problem.code, problem.message, Location(shown, 1, 1),
                                           suggestion=problem.suggestion))

    def read_one(self, path: FsPath, raw: bytes):
        name = self.display(path)
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            before = raw[:exc.start].decode("utf-8-sig", errors="replace")
            line = before.count("\n") + 1
            col = len(before) - (before.rfind("\n") + 1) + 1
            self.diagnostics.append(Diagnostic(
                "E107", f"文件不是 UTF-8 编码（第 {exc.start + 1} 字节无法按 UTF-8 读取）", Location(name, line, col),
                suggestion="用 UTF-8 重新保存该文件（Excel / WPS / 记事本“另存为”时选 UTF-8）。"))
            return
        doc, problems = load_yaml(text, name)
        self.diagnostics.extend(problems)
        if doc is None or problems:
            return
        if doc.data is None:
            return  # an empty file is allowed (e.g. a placeholder)
        if not isinstance(doc.data, dict):
            self.diagnostics.append(Diagnostic("E110", "文件顶层必须是映射", doc.where(()),
                                               suggestion="以 rules:、departments:、tests: 等键开头。"))
            return
        kind = next((k for k in doc.data if k in S.FILE_KINDS), None)
        if kind is None:
            # name the key that looks like a file kind (`rule:` for `rules:`), else the first key
            def likeness(k) -> float:  # how close a key comes to some file kind
                return max(difflib.SequenceMatcher(None, str(k), kind).ratio() for kind in S.FILE_KINDS)
            close = sorted((k for k in doc.data if likeness(k) >= 0.6), key=likeness, reverse=True)
            key = close[0] if close else next(iter(doc.data), "")
            self.diagnostics.append(Diagnostic(
                "E110", f"无法识别的文件：顶层键 '{key}' 不是 {', '.join(S.FILE_KINDS)} 之一",
                doc.where((key,), key=True), suggestion=suggest(str(key), S.FILE_KINDS, "顶层键")))
            self.failed.add("unknown")
            return
        model_cls = S.FILE_KINDS[kind]
        try:
            model = model_cls.model_validate(doc.data)
        except ValidationError as exc:
            self.diagnostics.extend(schema_diagnostics(doc, model_cls, exc))
            self.failed.add(kind)
            self.broken_rule_ids.update(raw_rule_ids(doc.data) if kind == "rules" else ())
            return
        self.loaded.append(Loaded(name, path.relative_to(self.root).as_posix(), doc, kind, model))

    def of_kind(self, *kinds) -> Iterable[Loaded]:
        return [item for item in self.loaded if item.kind in kinds]


# ---------------------------------------------------------------- the rulebook
def located(item: Loaded, key: str, index: int, spec) -> Located:
    """Entry `index` of the list under `key` in a loaded file, with a way to find where any part of it is."""
    path = (key, index)
    return Located(spec, item.doc.where(path), _Where(item.doc, path))


@dataclass(frozen=True)
class _Where:
    """Where a part of one entry is written (a callable object, not a closure: a loaded rulebook can be pickled)."""

    doc: YamlDoc
    path: tuple

    def __call__(self, *parts, key: bool = True) -> Location:
        return self.doc.where(self.path + parts, key=key)


def raw_rule_ids(data) -> set:
    rules = data.get("rules") if isinstance(data, dict) else None
    return {r["id"] for r in rules if isinstance(r, dict) and isinstance(r.get("id"), str)} \
        if isinstance(rules, list) else set()
