"""Safe YAML loading that remembers where every key and value came from.

PyYAML's SafeLoader composes nodes carrying start marks; we construct plain Python values from the
node tree ourselves so that (a) every mapping key and value gets a `Location`, (b) duplicate keys
are errors, not silent overwrites, and (c) any tag outside YAML's core schema (e.g. `!!python/...`)
is refused before anything is constructed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from .errors import Diagnostic, Location

_CORE_TAGS = {
    "tag:yaml.org,2002:" + t
    for t in ("str", "int", "float", "bool", "null", "timestamp", "map", "seq", "binary")
}

Path = tuple  # a path of mapping keys and sequence indexes from the document root


@dataclass
class YamlDoc:
    """A loaded document: the data and the position of every key and value in it."""

    file: str
    data: Any
    values: dict[Path, Location] = field(default_factory=dict)
    keys: dict[Path, Location] = field(default_factory=dict)

    def where(self, path: Path, key: bool = False) -> Location:
        """The closest known position for `path` (walks up to the parent when needed)."""
        path = tuple(path)
        table = self.keys if key else self.values
        while path:
            if path in table:
                return table[path]
            if path in self.values:
                return self.values[path]
            path = path[:-1]
        return self.values.get((), Location(self.file, 1, 1))


def _loc(file: str, node: yaml.Node) -> Location:
    return Location(file, node.start_mark.line + 1, node.start_mark.column + 1)


def load_yaml(text: str, file: str) -> tuple[YamlDoc | None, list[Diagnostic]]:
    """Parse one YAML document. Returns (doc or None, diagnostics)."""
    problems: list[Diagnostic] = []
    try:
        loader = yaml.SafeLoader(text)
        try:
            root = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file, 1, 1)
        problems.append(Diagnostic("E101", f"YAML 语法错误：{exc.problem or exc}", where,
                                   suggestion="检查缩进、冒号后的空格和引号是否成对。"))
        return None, problems
    except yaml.YAMLError as exc:  # pragma: no cover - PyYAML raises Marked errors for text input
        problems.append(Diagnostic("E101", f"YAML 语法错误：{exc}", Location(file, 1, 1)))
        return None, problems
    doc = YamlDoc(file, None)
    if root is None:
        doc.data = None
        return doc, problems
    constructor = yaml.SafeLoader("")  # only used for scalar conversion
    doc.data = _build(root, (), doc, problems, constructor)
    return doc, problems


def _build(node: yaml.Node, path: Path, doc: YamlDoc, problems: list, ctor) -> Any:
    doc.values[path] = _loc(doc.file, node)
    if node.tag not in _CORE_TAGS:
        problems.append(Diagnostic(
            "E102", f"不允许的 YAML 标签 '{node.tag}'（规则文件只能含普通数据）", _loc(doc.file, node),
            suggestion="删除该标签；规则文件只能使用文字、数字、日期、列表和映射。"))
        return None
    if isinstance(node, yaml.MappingNode):
        result: dict = {}
        first_seen: dict = {}
        ctor.flatten_mapping(node)  # resolves YAML merge keys (<<) the safe way
        for key_node, value_node in node.value:
            key = _build(key_node, path + ("<key>",), doc, problems, ctor)
            doc.values.pop(path + ("<key>",), None)
            if isinstance(key, (list, dict)) or key is None and key_node.tag != "tag:yaml.org,2002:null":
                problems.append(Diagnostic("E105", "映射的键必须是简单值", _loc(doc.file, key_node)))
                continue
            key = str(key) if not isinstance(key, (str, int)) else key
            if key in result:
                first = first_seen[key]
                problems.append(Diagnostic(
                    "E103", f"重复的键 '{key}'（第一次出现在第 {first.line} 行）", _loc(doc.file, key_node),
                    suggestion="删除或合并重复的键；YAML 只会保留最后一个值。"))
                continue
            first_seen[key] = _loc(doc.file, key_node)
            doc.keys[path + (key,)] = _loc(doc.file, key_node)
            result[key] = _build(value_node, path + (key,), doc, problems, ctor)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, path + (i,), doc, problems, ctor) for i, item in enumerate(node.value)]
    return ctor.construct_object(node, deep=True)
