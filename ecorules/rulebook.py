"""Load and validate a rulebook directory, collecting every diagnostic before giving up.

The public seam: `load_rulebook` / `check_rulebook` and the `Rulebook` they give. The passes live in their
own modules: loader.py (files → YAML → schema, E1xx), assembly.py (org graph, rules and their checks,
citations, tests, compile: E2xx/E3xx), layers.py (a jurisdiction's published list as an authority layer).
Everything found is reported at once, each at `file:line:col`.
"""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path as FsPath
from typing import Any, Optional

from .assembly import Assembler
from .cache import remembered
from .compiler import Compiled
from .errors import Diagnostic, Location, RulebookError
from .loader import Loader
from .orggraph import OrgGraph
from .rule import Rule, RuleTest, full_cite
from .statutes import Collection

__all__ = ["Rule", "RuleTest", "Rulebook", "check_rulebook", "full_cite", "load_rulebook"]



@dataclass
class Rulebook:
    root: str
    name: str
    version: str
    hash: str
    rules: tuple
    org: OrgGraph
    categories: dict            # id → CategorySpec
    tests: tuple
    compiled: Compiled
    warnings: tuple = ()
    files: tuple = ()
    places: Any = None          # places.Places: the gazetteer (district field and title → jurisdiction)
    mentions: Any = None        # mentions.Mentions: department names read in titles
    statutes: Optional[Collection] = None   # the statute texts that travel with the rulebook (statutes/index.yaml)

    @functools.cached_property
    def versions(self) -> dict:
        """id → every version of that rule, in rulebook order (usually one; dated versions never overlap)."""
        found: dict[str, list] = {}
        for rule in self.rules:
            found.setdefault(rule.id, []).append(rule)
        return {rule_id: tuple(rules) for rule_id, rules in found.items()}

    @functools.cached_property
    def rules_at(self) -> dict:
        """(file, line) → rule: how a Basis entry (which records both) finds the exact version that fired."""
        return {rule.where: rule for rule in self.rules}


def load_rulebook(path: str | os.PathLike, strict: bool = False) -> Rulebook:
    """Load, validate and compile a rulebook directory. Raises RulebookError listing every error.

    Warnings are kept on `Rulebook.warnings`; with `strict=True` they are errors too.
    """
    rulebook, diagnostics = check_rulebook(path)
    errors = [d for d in diagnostics if d.severity == "error" or strict]
    if errors or rulebook is None:
        raise RulebookError(errors or diagnostics)
    return rulebook


def _display(root: FsPath) -> str:
    """How to show the rulebook's paths: relative to the working directory when inside it."""
    try:
        relative = os.path.relpath(root)
    except ValueError:  # another drive on Windows
        return str(root)
    return str(root) if relative.startswith("..") else relative


def check_rulebook(path: str | os.PathLike) -> tuple[Optional[Rulebook], list[Diagnostic]]:
    """Every diagnostic for a rulebook directory, and the Rulebook when there is no error."""
    root = FsPath(path)
    display_root = _display(root)
    if not root.is_dir():
        return None, [Diagnostic("E100", f"规则库目录不存在：{path}", Location(display_root),
                                 suggestion="检查路径：ecorules check / test / diff 的参数，或 resolve / explain 的 --rules，"
                                            "应是含规则文件的目录。")]
    # the same bytes, code and display give the same result: kept in the compiled-rulebook cache (cache.py)
    return remembered(root, display_root, lambda: _check(root, display_root), keep=lambda result: _self_contained(
        root, result[0]))


def _self_contained(root: FsPath, rulebook: Optional[Rulebook]) -> bool:
    """Did loading read only files under `root` (what the cache key covers)? Statute texts are named in the
    index and could lie elsewhere."""
    if rulebook is None or rulebook.statutes is None:
        return True
    inside = root.resolve()
    return all(statute.path.resolve().is_relative_to(inside) for statute in rulebook.statutes.statutes)


def _check(root: FsPath, display_root: str) -> tuple[Optional[Rulebook], list[Diagnostic]]:
    loader = Loader(root, display_root)
    loader.read_all()
    parts, diagnostics = Assembler(loader).assemble()
    if parts is None:
        return None, diagnostics
    rulebook = Rulebook(
        root=display_root, name=parts.name, version=parts.version, hash=parts.hash, rules=parts.rules,
        org=parts.org, categories=parts.categories, tests=parts.tests, compiled=parts.compiled,
        warnings=tuple(d for d in diagnostics if d.severity == "warning"), files=parts.files, places=parts.places,
        mentions=parts.mentions, statutes=parts.statutes)
    return rulebook, diagnostics
