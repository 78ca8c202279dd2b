"""Golden corpus of broken rulebooks and the exact diagnostics `check_rulebook` gives for each.

Every directory under tests/golden/diagnostics/ is one case: `rules/` (a small broken rulebook with
its own tiny org file) and `expected.txt` (one `Diagnostic.format()` line per diagnostic, sorted).
See tests/golden/README.md for the layout and for regenerating with ECORULES_REGEN_GOLDEN=1.
"""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from ecorules import Diagnostic, check_rulebook

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "golden" / "diagnostics"
ENGINE = HERE.parent / "ecorules"
REGEN = os.environ.get("ECORULES_REGEN_GOLDEN") == "1"

# Cases whose expected.txt holds the RIGHT output, which the engine does not give yet. They run as
# strict xfails: when the engine is fixed the case passes, pytest reports XPASS as a failure, and the
# entry must be removed here. Regeneration never rewrites these files.
KNOWN_BUGS: dict[str, str] = {}

CASES = sorted(p for p in CORPUS.iterdir() if p.is_dir() and re.match(r"^\d\d-", p.name))


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {p.relative_to(directory).as_posix(): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def run_case(case: Path, workdir: Path, monkeypatch) -> tuple[object, list[Diagnostic]]:
    """check_rulebook('rules') from a copy of the case directory, so paths print as rules/…"""
    work = workdir / case.name
    shutil.copytree(case, work)
    monkeypatch.chdir(work)
    before = _snapshot(work)
    rulebook, diagnostics = check_rulebook("rules")
    assert _snapshot(work) == before, "checking a rulebook must never create or change files"
    return rulebook, diagnostics


def render(diagnostics: list[Diagnostic]) -> str:
    return "".join(d.format() + "\n" for d in sorted(diagnostics, key=Diagnostic.sort_key))


def _param(case: Path):
    marks = [pytest.mark.xfail(reason=KNOWN_BUGS[case.name], strict=True)] if case.name in KNOWN_BUGS else []
    return pytest.param(case, id=case.name, marks=marks)


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_golden_diagnostics(case: Path, tmp_path, monkeypatch):
    rulebook, diagnostics = run_case(case, tmp_path, monkeypatch)
    actual = render(diagnostics)
    expected_file = case / "expected.txt"
    if REGEN and case.name not in KNOWN_BUGS:
        expected_file.write_text(actual, encoding="utf-8")
        pytest.skip(f"regenerated {expected_file.relative_to(HERE)} — read it before committing")
    assert expected_file.exists(), f"{expected_file} is missing; run with ECORULES_REGEN_GOLDEN=1"
    assert actual == expected_file.read_text(encoding="utf-8")
    # every case is broken on purpose; a rulebook comes back only when all findings are warnings
    assert diagnostics
    has_error = any(d.severity == "error" for d in diagnostics)
    assert (rulebook is None) == has_error


# ---------------------------------------------------------------- properties of the corpus itself
def test_corpus_is_large_and_well_formed():
    assert len(CASES) >= 25
    numbers = [c.name[:2] for c in CASES]
    assert len(numbers) == len(set(numbers)), "case numbers must be unique"
    for case in CASES:
        assert (case / "rules").is_dir(), case.name
        assert (case / "expected.txt").is_file(), case.name
    assert set(KNOWN_BUGS) <= {c.name for c in CASES}


def test_every_diagnostic_code_has_a_golden_case():
    """A new code in the engine needs a golden case (or a reason here why it cannot have one)."""
    not_reachable_from_a_case = {
        "E100": "the rulebook directory itself is missing (tests/test_rulebook.py)",
        "E310": "needs > 60 range tests in one rule (tests/test_rulebook.py)",
        "E350": "reports_to edges are generated; a cycle cannot be written in org data",
        **{code: "a symlink, FIFO, 5 MiB file or 1,000 files: tests/hostile/rulebook/ (tests/test_hostile.py)"
           for code in ("E108", "E109", "E112", "E113")},
    }
    emitted = set()
    for name in ("_yaml.py", "files.py", "loader.py", "schema_errors.py", "rulebook.py", "assembly.py", "layers.py", "conditions.py",
                 "patterns.py", "orggraph.py", "compiler.py", "citecheck.py"):   # the modules behind `check`
        source = ENGINE / name
        emitted |= set(re.findall(r"\"([EW]\d{3})\"", source.read_text(encoding="utf-8")))
    covered = set()
    for case in CASES:
        covered |= set(re.findall(r": ([EW]\d{3}) ", (case / "expected.txt").read_text(encoding="utf-8")))
    missing = emitted - covered - set(not_reachable_from_a_case)
    assert not missing, f"codes without a golden case: {sorted(missing)}"


def test_python_tag_payload_is_never_executed(tmp_path, monkeypatch):
    """05-python-tag holds payloads that would create PWNED / PWNED2 in the working directory."""
    case = CORPUS / "05-python-tag"
    assert "!!python/object/apply" in (case / "rules" / "assign.yaml").read_text(encoding="utf-8")
    rulebook, diagnostics = run_case(case, tmp_path, monkeypatch)
    assert rulebook is None
    assert [d.code for d in diagnostics] == ["E102", "E102"]
    assert not (tmp_path / case.name / "PWNED").exists()
    assert not (tmp_path / case.name / "PWNED2").exists()
    assert not Path("PWNED").exists() and not Path("PWNED2").exists()


def test_gbk_case_really_is_gbk():
    raw = (CORPUS / "06-non-utf8-gbk" / "rules" / "assign.yaml").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert "工地扬尘" in raw.decode("gbk")
