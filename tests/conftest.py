"""Shared fixtures, built from the project's own data (rules/, fixtures/)."""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import textwrap
from pathlib import Path

import pytest

from ecorules import Engine

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules"
FIXTURES = ROOT / "fixtures"
ORG_FILE = RULES / "org" / "shanghai.yaml"


@pytest.fixture(scope="session", autouse=True)
def _private_rulebook_cache():
    """The compiled-rulebook cache of a test run lives in a folder of its own (not the user's), removed at the end;
    subprocesses (the CLI tests) inherit it."""
    if os.environ.get("ECORULES_CACHE_DIR") is not None:
        yield  # the caller chose (e.g. `off`)
        return
    folder = tempfile.mkdtemp(prefix="ecorules-cache-")
    os.environ["ECORULES_CACHE_DIR"] = folder
    try:
        yield
    finally:
        os.environ.pop("ECORULES_CACHE_DIR", None)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def default_engine():
    engine = Engine.from_directory(RULES)
    yield engine
    engine.close()


@pytest.fixture(scope="session")
def fixture_matters() -> list[dict]:
    lines = (FIXTURES / "matters.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def write_rulebook(directory: Path, files: dict[str, str], with_org: bool = True) -> Path:
    """A rulebook directory: the shipped org data (unless with_org=False) plus the given files.

    `files` maps a relative path to YAML text (dedented).
    """
    directory.mkdir(parents=True, exist_ok=True)
    if with_org:
        (directory / "org").mkdir(exist_ok=True)
        shutil.copy(ORG_FILE, directory / "org" / "shanghai.yaml")
    for relative, text in files.items():
        target = directory / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return directory


@pytest.fixture
def make_rulebook(tmp_path):
    """make_rulebook({"assign/a.yaml": "..."}) → path of a fresh rulebook directory."""
    counter = iter(range(10_000))

    def make(files: dict[str, str], with_org: bool = True) -> Path:
        return write_rulebook(tmp_path / f"rb{next(counter)}", files, with_org)
    return make


EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture(scope="session")
def with_sample(tmp_path_factory) -> Path:
    """The shipped rulebook with the sample layer added (examples/lists/): the sample is not a published list, so
    the shipped rulebook does not load it — a 嘉定 ticket must never be answered from a fictitious list."""
    root = tmp_path_factory.mktemp("with-sample") / "rules"
    shutil.copytree(RULES, root)
    shutil.copytree(EXAMPLES / "lists", root / "lists")
    return root


@pytest.fixture(scope="session")
def sample_engine(with_sample):
    with Engine.from_directory(with_sample) as engine:
        yield engine
