"""Safe YAML loading that remembers where every key and value came from.

PyYAML's SafeLoader composes nodes carrying start marks; we construct plain Python values from the
node tree ourselves so that (a) every mapping key and value gets a `Location`, (b) duplicate keys
are errors, not silent overwrites, (c) any tag outside YAML's core schema (e.g. `!!python/...`)
is refused before anything is constructed, (d) a scalar PyYAML cannot construct (an impossible
date, `!!int abc`) becomes a diagnostic instead of an exception, and (e) a hostile file stays cheap:
before anything is built, the composed node graph is walked once, without recursion, and a file
nested deeper than MAX_DEPTH (E114), using more than MAX_ALIASES aliases, expanding (through its
aliases) to more than MAX_NODES nodes, or holding an alias inside its own anchor (E115) is refused.
A "billion laughs" file is thus measured in time linear in its text, never expanded.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

import yaml

from .errors import Diagnostic, Location

_CORE = "tag:yaml.org,2002:"
_CORE_TAGS = {_CORE + t for t in ("str", "int", "float", "bool", "null", "timestamp", "map", "seq", "binary", "merge")}

MAX_DEPTH = 64          # nested mappings / lists in one file (the shipped rulebook uses 12)
MAX_ALIASES = 1_000     # `*name` uses in one file
MAX_NODES = 500_000     # nodes of one file once every alias is expanded (the largest shipped file has ~12,000)

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


def _loc(file: str, node_or_mark) -> Location:
    mark = getattr(node_or_mark, "start_mark", node_or_mark)
    return Location(file, mark.line + 1, mark.column + 1)


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_CORE):] if tag.startswith(_CORE) else tag


# libyaml (when PyYAML was built with it) composes the same nodes about five times faster: `check` stays fast
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _compose(text: str, loader_class) -> Optional[yaml.Node]:
    loader = loader_class(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


def load_yaml(text: str, file: str) -> tuple[YamlDoc | None, list[Diagnostic]]:
    """Parse one YAML document. Returns (doc or None, diagnostics)."""
    problems: list[Diagnostic] = []
    try:
        root = _compose(text, _FAST_LOADER)
    except yaml.MarkedYAMLError as fast_error:
        if "nesting depth" in str(fast_error.problem):  # libyaml stops at 1000 levels
            problems.append(_too_deep(_loc(file, fast_error.problem_mark or fast_error.context_mark)))
            return None, problems
        # libyaml words errors differently: for a broken file, the pure-Python parser's message and position
        try:
            root = _compose(text, yaml.SafeLoader)
        except yaml.MarkedYAMLError as exc:
            problems.append(syntax_diagnostic(exc, file))
            return None, problems
        except RecursionError:  # the pure-Python composer recurses: deep nesting before the error
            problems.append(syntax_diagnostic(fast_error, file))
            return None, problems
    except RecursionError:  # PyYAML without libyaml composes recursively: only very deep nesting gets here
        problems.append(_too_deep(Location(file, 1, 1)))
        return None, problems
    doc = YamlDoc(file, None)
    if root is None:
        return doc, problems
    problem = measure(root, file)
    if problem:
        return None, [problem]
    doc.data = _Builder(doc, problems).build(root, ())
    return doc, problems


def _too_deep(where: Location) -> Diagnostic:
    return Diagnostic("E114", f"嵌套过深（超过 {MAX_DEPTH} 层映射或列表）", where,
                      suggestion="规则文件不需要这么多层；检查是否误用了 [ 或 -，或把深层内容拆成几条规则。")


def measure(root: yaml.Node, file: str) -> Optional[Diagnostic]:
    """The first limit a composed document breaks (E114 depth, E115 aliases), or None.

    Iterative (no recursion, whatever the depth) and linear in the number of distinct nodes: an alias is
    the same node object met again, so expanded sizes are computed once per node and added up."""
    size: dict[int, int] = {}        # id(node) → nodes under it once aliases are expanded (node included)
    height: dict[int, int] = {}      # id(collection) → levels of mappings / lists from it down
    open_: set[int] = set()          # collections whose children are being walked: meeting one again is a cycle
    aliases = 0
    if not isinstance(root, yaml.CollectionNode):
        return None
    stack: list[tuple[yaml.Node, int]] = [(root, 1)]  # (node, its level) on the way down, (node, -level) back up
    while stack:
        node, level = stack.pop()
        key = id(node)
        children = _children(node)
        if level > 0:                # first visit: check the limits on the way down
            if key in open_:
                return Diagnostic("E115", "别名引用了包含它自己的锚点（递归别名）", _loc(file, node),
                                  suggestion="删除该 *别名，或把它移到锚点 & 所在的映射或列表之外。")
            if key in size:
                aliases += 1
                if aliases > MAX_ALIASES:
                    return _too_many_aliases(_loc(file, node))
                continue
            if level > MAX_DEPTH:
                return _too_deep(_loc(file, node))
            open_.add(key)
            stack.append((node, -level))
            for child in reversed(children):
                if isinstance(child, yaml.CollectionNode):
                    stack.append((child, level + 1))
                elif id(child) in size:  # a scalar met again: an alias of one value
                    aliases += 1
                    if aliases > MAX_ALIASES:
                        return _too_many_aliases(_loc(file, child))
                else:
                    size[id(child)] = 1
            continue
        open_.discard(key)           # second visit: every child is measured
        total, deepest = 1, 0
        for child in children:
            total += size[id(child)]
            if isinstance(child, yaml.CollectionNode) and height[id(child)] > deepest:
                deepest = height[id(child)]
        size[key], height[key] = total, deepest + 1
        if total > MAX_NODES:
            return Diagnostic("E115", f"展开别名后内容过大（超过 {MAX_NODES} 个值；可能是“别名炸弹”）", _loc(file, node),
                              suggestion="直接写出内容，不要用别名层层复制。")
        if -level + deepest > MAX_DEPTH:  # deeper through an alias than as written
            return _too_deep(_loc(file, node))
    return None


def _too_many_aliases(where: Location) -> Diagnostic:
    return Diagnostic("E115", f"别名（*名称）用得过多（超过 {MAX_ALIASES} 处）", where,
                      suggestion="直接写出内容；规则文件不需要大量的锚点与别名。")


def _children(node: yaml.Node) -> list:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return node.value


def syntax_diagnostic(exc: yaml.MarkedYAMLError, file: str) -> Diagnostic:
    """E101 for a YAML syntax error, at the place the author needs to look."""
    problem, context = exc.problem_mark, exc.context_mark
    # for an unclosed quote or bracket PyYAML's problem is at the end of the file; the author needs
    # the place where it was opened, which PyYAML keeps as the context
    opened = context is not None and problem is not None and context.line < problem.line \
        and exc.context and ("scanning a quoted" in exc.context or "flow" in exc.context)
    mark = context if opened else (problem or context)
    where = _loc(file, mark) if mark else Location(file, 1, 1)
    detail = f"{exc.problem or exc}"
    if opened:
        detail += f"（从这里开始的{'引号' if 'quoted' in exc.context else '括号'}没有闭合）"
    return Diagnostic("E101", f"YAML 语法错误：{detail}", where,
                      suggestion="检查缩进（只能用空格，不能用 Tab）、冒号后的空格和引号、括号是否成对。")


class _Builder:
    def __init__(self, doc: YamlDoc, problems: list):
        self.doc = doc
        self.problems = problems
        self.ctor = yaml.SafeLoader("")  # used only to convert scalars and resolve merge keys

    def problem(self, code, message, node, suggestion=None):
        self.problems.append(Diagnostic(code, message, _loc(self.doc.file, node), suggestion=suggestion))

    def build(self, node: yaml.Node, path: Path) -> Any:
        self.doc.values[path] = _loc(self.doc.file, node)
        if node.tag not in _CORE_TAGS:
            self.problem("E102", f"不允许的 YAML 标签 '{_short_tag(node.tag)}'（规则文件只能含普通数据）", node,
                         "删除该标签；规则文件只能使用文字、数字、日期、列表和映射。")
            return None
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, path + (i,)) for i, item in enumerate(node.value)]
        try:
            return self.ctor.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, TypeError, KeyError, AttributeError, OverflowError):
            self.problem("E105", f"值 '{node.value}' 不能按 {_short_tag(node.tag)} 读取"
                                 + ("（日期不存在？）" if node.tag == _CORE + "timestamp" else ""), node,
                         "日期写作 YYYY-MM-DD；不需要类型标签时请删除 !! 标签。")
            return None

    def mapping(self, node: yaml.MappingNode, path: Path) -> dict:
        own = list(node.value)
        try:
            self.ctor.flatten_mapping(node)  # resolves YAML merge keys (<<) the safe way
        except yaml.YAMLError as exc:
            self.problem("E105", f"合并键 '<<' 只能引用映射：{getattr(exc, 'problem', exc)}", node)
            node.value = [(k, v) for k, v in own if k.tag != _CORE + "merge"]
        merged = [pair for pair in node.value if pair not in own]
        result: dict = {}
        first_seen: dict = {}
        own_keys = set()
        # the mapping's own keys first: YAML's merge rule says they override merged ones
        for key_node, value_node in [p for p in node.value if p in own] + merged:
            from_merge = (key_node, value_node) in merged
            key = self.build(key_node, path + ("<key>",))
            self.doc.values.pop(path + ("<key>",), None)
            if isinstance(key, (list, dict)) or (key is None and key_node.tag != _CORE + "null"):
                self.problem("E105", "映射的键必须是简单值", key_node)
                continue
            key = key if isinstance(key, (str, int)) else str(key)
            if key in result:
                if from_merge and key in own_keys:
                    continue
                first = first_seen[key]
                self.problem("E103", f"重复的键 '{key}'（第一次出现在第 {first.line} 行）", key_node,
                             "删除或合并重复的键。")
                continue
            if not from_merge:
                own_keys.add(key)
            first_seen[key] = _loc(self.doc.file, key_node)
            self.doc.keys[path + (key,)] = first_seen[key]
            result[key] = self.build(value_node, path + (key,))
        return result
