"""Issue 14: the compiled-rulebook cache (ecorules/cache.py) — a second load of the same bytes comes from the cache,
any changed byte is a fresh load, damaged entries and odd trees are loaded as if there were no cache."""
from __future__ import annotations

import multiprocessing
import os
import pickle

import pytest

from ecorules import rulebook as rulebook_module
from ecorules.cache import cache_dir
from ecorules.rulebook import check_rulebook, load_rulebook

from conftest import RULES

RULE = """
stage: assign
source: 测试依据
rules:
  - {id: a, title: a, cite: 第一条, when: {category: a}, lead: sthj}
"""


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("ECORULES_CACHE_DIR", str(folder))
    return folder


@pytest.fixture
def loads(monkeypatch):
    """How many times a rulebook was really parsed (not taken from the cache)."""
    calls = []
    real = rulebook_module._check

    def counting(*args):
        calls.append(args)
        return real(*args)
    monkeypatch.setattr(rulebook_module, "_check", counting)
    return calls


def _dump(result) -> tuple:
    rulebook, diagnostics = result
    return (rulebook.hash, [r.id for r in rulebook.rules], rulebook.compiled.definitions(),
            [d.format() for d in diagnostics])


def test_second_load_comes_from_the_cache_and_equals_a_fresh_one(cache, loads):
    first = check_rulebook(RULES)
    second = check_rulebook(RULES)
    assert len(loads) == 1
    assert len(list(cache.glob("*.pickle"))) == 1
    assert _dump(first) == _dump(second)
    assert second[0] is not first[0]  # each caller gets its own objects


def test_a_changed_byte_is_a_fresh_load(cache, loads, make_rulebook):
    path = make_rulebook({"assign/a.yaml": RULE})
    assert load_rulebook(path).rules[0].lead == "sthj"
    (path / "assign" / "a.yaml").write_text(RULE.replace("lead: sthj", "lead: lhsr"), encoding="utf-8")
    assert load_rulebook(path).rules[0].lead == "lhsr"
    (path / "assign" / "notes.txt").write_text("any file under the rulebook counts", encoding="utf-8")
    load_rulebook(path)
    assert len(loads) == 3


def test_a_damaged_entry_is_loaded_afresh_and_replaced(cache, loads, make_rulebook):
    path = make_rulebook({"assign/a.yaml": RULE})
    load_rulebook(path)
    entry, = cache.glob("*.pickle")
    entry.write_bytes(entry.read_bytes()[:100])
    assert load_rulebook(path).rules[0].id == "a"
    assert len(loads) == 2
    assert pickle.loads(entry.read_bytes())[0].startswith(b"ecorules")


def test_off_means_no_cache(monkeypatch, tmp_path, loads, make_rulebook):
    monkeypatch.setenv("ECORULES_CACHE_DIR", "off")
    assert cache_dir() is None
    path = make_rulebook({"assign/a.yaml": RULE})
    load_rulebook(path)
    load_rulebook(path)
    assert len(loads) == 2


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_odd_trees_are_not_cached(cache, loads, make_rulebook):
    path = make_rulebook({"assign/a.yaml": RULE})
    os.mkfifo(path / "pipe")  # never opened by the cache's key
    load_rulebook(path)
    load_rulebook(path)
    assert len(loads) == 2
    assert not list(cache.glob("*.pickle"))


def _load_in_process(path: str) -> str:
    return load_rulebook(path).hash


def test_concurrent_writers_leave_one_whole_entry(cache, make_rulebook):
    path = make_rulebook({"assign/a.yaml": RULE})
    context = multiprocessing.get_context("spawn")
    with context.Pool(3) as pool:
        hashes = pool.map(_load_in_process, [str(path)] * 6)
    assert len(set(hashes)) == 1
    entry, = cache.glob("*.pickle")
    assert not [p for p in cache.iterdir() if p.suffix == ".tmp"]
    assert load_rulebook(path).hash == hashes[0]


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")
def test_a_folder_others_can_write_to_is_not_used(cache, loads, make_rulebook):
    cache.mkdir(mode=0o700)
    cache.chmod(0o777)
    path = make_rulebook({"assign/a.yaml": RULE})
    load_rulebook(path)
    load_rulebook(path)
    assert len(loads) == 2 and not list(cache.glob("*.pickle"))
    cache.chmod(0o700)
    load_rulebook(path)
    load_rulebook(path)
    assert len(loads) == 3 and len(list(cache.glob("*.pickle"))) == 1
