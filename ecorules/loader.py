"""Reading a rulebook directory's files: files (files.py: symlinks, FIFOs, sizes, counts; E108–E113) → YAML
(_yaml.py, bounded: E1xx) → schema (pydantic, E1xx, each error mapped back to `file:line:col`). What is read
is kept as `Loaded` items, one per file, known by its top-level key (spec.FILE_KINDS)."""
from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path as FsPath
from typing import Any, Iterable, Optional

from pydantic import BaseModel, ValidationError

from . import spec as S
from ._yaml import YamlDoc, load_yaml
from .errors import Diagnostic, Location, suggest
from .files import MAX_FILES, FileProblem, read_bytes, too_many_files, yaml_files
from .orggraph import Located



def _nested_model(model: type[BaseModel], key) -> Optional[type[BaseModel]]:
    """The model describing the value under `key` of `model` (through list/Optional/dict)."""
    for name, info in model.model_fields.items():
        if key not in (name, info.alias):
            continue
        stack = [info.annotation]
        while stack:
            current = stack.pop()
            if isinstance(current, type) and issubclass(current, BaseModel):
                return current
            stack.extend(getattr(current, "__args__", ()))
    return None


def _allowed_keys(model: type[BaseModel], data_path: tuple) -> list[str]:
    current = model
    for part in data_path[:-1]:
        if isinstance(part, int):
            continue
        nested = _nested_model(current, part) if current else None
        if nested is None:
            # dict[str, Model] values (e.g. districts[].names.jxw) keep the model found so far
            continue
        current = nested
    return [info.alias or name for name, info in current.model_fields.items()] if current else []


_MESSAGES = {
    "string_type": "应为文字", "int_type": "应为整数", "int_parsing": "应为整数", "int_from_float": "应为整数",
    "bool_type": "应为 true 或 false", "bool_parsing": "应为 true 或 false", "list_type": "应为列表",
    "dict_type": "应为映射（键: 值）", "model_type": "应为映射（键: 值）", "date_type": "应为日期 YYYY-MM-DD",
    "date_parsing": "应为日期 YYYY-MM-DD", "date_from_datetime_parsing": "应为日期 YYYY-MM-DD",
    "string_too_short": "不能为空", "too_short": "不能为空", "greater_than_equal": "太小",
    "less_than_equal": "太大", "string_pattern_mismatch": "格式不符",
}


def schema_diagnostics(doc: YamlDoc, model: type[BaseModel], error: ValidationError) -> list[Diagnostic]:
    found: dict[tuple, Diagnostic] = {}
    for item in error.errors():
        loc = item["loc"]
        data_path: tuple = ()
        node = doc.data
        for part in loc:  # keep the part of loc that exists in the data (drop union-member tags)
            if isinstance(node, dict) and part in node:
                node = node[part]
                data_path += (part,)
            elif isinstance(node, list) and isinstance(part, int) and part < len(node):
                node = node[part]
                data_path += (part,)
            elif item["type"] in ("missing", "extra_forbidden") and part == loc[-1]:
                data_path += (part,)
                break
        key = str(data_path[-1]) if data_path else ""
        if item["type"] == "extra_forbidden":
            allowed = _allowed_keys(model, data_path)
            diag = Diagnostic("E104", f"未知的键 '{key}'", doc.where(data_path, key=True),
                              suggestion=suggest(key, allowed, "键"))
        elif item["type"] == "missing":
            diag = Diagnostic("E106", f"缺少必填的键 '{key}'", doc.where(data_path[:-1]),
                              suggestion=f"在此处添加 '{key}:'。")
        else:
            value = item.get("input")
            if item["type"] == "literal_error" and isinstance(value, dict):
                continue  # a union member that does not apply (e.g. district: a template, not none/shared)
            text = _MESSAGES.get(item["type"])
            suggestion = None
            if item["type"] == "literal_error":
                allowed = re.findall(r"'([^']*)'", str(item.get("ctx", {}).get("expected", "")))
                text = "应为 " + "、".join(allowed) + " 之一"
                if isinstance(value, bool):
                    suggestion = f'YAML 把不带引号的 yes/no/on/off 读成 true/false，请加引号，如 "{"yes" if value else "no"}"。'
                elif isinstance(value, str):
                    suggestion = suggest(value, allowed)
            if item["type"] == "string_pattern_mismatch":
                text = f"格式不符（须匹配 {item.get('ctx', {}).get('pattern')}）"
            if isinstance(value, dt.datetime):
                text, shown = "应为日期 YYYY-MM-DD（不带时间）", f"，得到 {value.isoformat(sep=' ')}"
            else:
                shown = f"，得到 {value!r}" if isinstance(value, (str, int, float, bool, dt.date)) else ""
            diag = Diagnostic("E105", f"'{key}' 的值无效：{text or item['msg']}{shown}", doc.where(data_path),
                              suggestion=suggestion)
        found.setdefault(data_path, diag)
    return list(found.values())


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
