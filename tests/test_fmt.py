"""ecorules.fmt: canonical key order and layout, comments kept with their keys, data never changed."""
from __future__ import annotations

import os
import textwrap

import pytest
import yaml

from conftest import RULES
from ecorules.errors import Location, RulebookError
from ecorules.fmt import FmtError, format_paths, format_text

SHIPPED = sorted(RULES.rglob("*.yaml"))


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


# ---------------------------------------------------------------- key order and comments
MESSY = dedent("""
    # 文件头注释：留在文件开头
    rules:
        # 第一条规则
        -   lead: zjw          # 牵头：建设管理部门
            # 优先级的说明跟着 priority 走
            priority: 90
            title: 工地扬尘
            id: air.dust
            when: {category: construction_dust}

        # 第二条规则
        -   note: 说明
            cite: 第九十八条
            id: air.other
    stage: assign
    # 文件末尾的注释
""")

TIDY = dedent("""
    # 文件头注释：留在文件开头
    stage: assign
    rules:
      # 第一条规则
      - id: air.dust
        title: 工地扬尘
        when: {category: construction_dust}
        lead: zjw          # 牵头：建设管理部门
        # 优先级的说明跟着 priority 走
        priority: 90

      # 第二条规则
      - id: air.other
        cite: 第九十八条
        note: 说明
    # 文件末尾的注释
""")


def test_keys_take_the_spec_order_and_comments_move_with_their_keys():
    assert format_text(MESSY) == TIDY


def test_tidy_text_is_left_as_it_is():
    assert format_text(TIDY) == TIDY


def test_keys_spec_does_not_know_follow_the_known_ones_in_their_own_order():
    text = dedent("""
        zzz: 1
        rules:
          - zeta: 1
            id: a
            alpha: 2
        stage: assign
    """)
    assert format_text(text) == dedent("""
        stage: assign
        rules:
          - id: a
            zeta: 1
            alpha: 2
        zzz: 1
    """)


def test_data_mappings_keep_the_authors_order():
    text = dedent("""
        tests:
          - expect: {lead: zjw, status: resolved}
            matter: {title: 工地扬尘, id: t-1, district: 黄浦区}
            name: 测试
    """)
    assert format_text(text) == dedent("""
        tests:
          - name: 测试
            matter: {title: 工地扬尘, id: t-1, district: 黄浦区}
            expect: {status: resolved, lead: zjw}
    """)


def test_nested_models_and_aliases_are_ordered():
    text = dedent("""
        rules:
          - id: a
            effective: {until: 2030-12-31, from: 2018-12-20}
            escalate: {with: $candidates, to: [party, gov]}
    """)
    assert "effective: {from: 2018-12-20, until: 2030-12-31}" in format_text(text)
    assert "escalate: {to: [party, gov], with: $candidates}" in format_text(text)


# ---------------------------------------------------------------- layout
def test_flow_style_quotes_chinese_and_long_lines_are_kept():
    long_note = "，".join(["第九十八条第一款只说由工程有关行政管理部门处罚 未点名"] * 8)
    text = dedent(f"""
        rules:
          - id: 'air.dust'
            title: "工地扬尘"
            note: {long_note}
            when: {{category: construction_dust}}
            assist: [sthj, lhsr]
            lead: zjw
        stage: "assign"
    """)
    out = format_text(text)
    assert "  - id: 'air.dust'\n" in out
    assert '    title: "工地扬尘"\n' in out
    assert 'stage: "assign"\n' in out
    assert f"    note: {long_note}\n" in out            # one line, not folded, no \u escapes
    assert "    when: {category: construction_dust}\n" in out
    assert "    assist: [sthj, lhsr]\n" in out


def test_null_is_written_null():
    text = "tests:\n  - name: n\n    expect:\n      escalation: null\n      lead: ~\n"
    assert format_text(text) == "tests:\n  - name: n\n    expect:\n      lead: null\n      escalation: null\n"


# ---------------------------------------------------------------- the shipped rulebook
@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.relative_to(RULES).as_posix())
def test_shipped_files_keep_their_data_and_format_once_for_all(path):
    # one test for both properties: formatting the big files is the slow part of this module
    text = path.read_text(encoding="utf-8")
    once = format_text(text, str(path))
    assert yaml.safe_load(once) == yaml.safe_load(text)
    assert format_text(once, str(path)) == once


# ---------------------------------------------------------------- refusals
def test_a_broken_file_gives_the_yaml_diagnostic_with_line_and_column():
    with pytest.raises(RulebookError) as info:
        format_text("rules:\n  - id: a\n    title: x\n   lead: zjw\n", "rules/assign/bad.yaml")
    [diagnostic] = info.value.diagnostics
    assert diagnostic.code == "E101"
    assert diagnostic.location == Location("rules/assign/bad.yaml", 4, 4)


def test_a_duplicate_key_is_refused_like_check_does():
    with pytest.raises(RulebookError) as info:
        format_text("stage: assign\nstage: route\nrules: []\n", "dup.yaml")
    assert [(d.code, d.location) for d in info.value.diagnostics] == [("E103", Location("dup.yaml", 2, 1))]


def test_a_comment_ruamel_would_drop_is_refused_not_lost():
    text = "tests:\n  - name: n\n    matter: {id: a,  # 编号\n             title: b}\n"
    with pytest.raises(FmtError) as info:
        format_text(text, "t.yaml")
    assert info.value.location == Location("t.yaml", 3, 22)
    assert "# 编号" in info.value.message


# ---------------------------------------------------------------- files
def test_check_mode_reports_and_writes_nothing(tmp_path):
    (tmp_path / "assign").mkdir()
    messy, tidy = tmp_path / "assign" / "messy.yaml", tmp_path / "tidy.yaml"
    messy.write_text(MESSY, encoding="utf-8")
    tidy.write_text(TIDY, encoding="utf-8")
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in (messy, tidy)}
    assert format_paths([tmp_path], check=True) == [messy]
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in (messy, tidy)} == before


def test_writing_replaces_changed_files_only_and_keeps_their_mode(tmp_path):
    messy, tidy = tmp_path / "messy.yaml", tmp_path / "tidy.yml"
    messy.write_text(MESSY, encoding="utf-8")
    tidy.write_text(TIDY, encoding="utf-8")
    os.chmod(messy, 0o644)
    tidy_mtime = tidy.stat().st_mtime_ns
    assert format_paths([tidy, tmp_path]) == [messy]
    assert messy.read_text(encoding="utf-8") == TIDY
    assert messy.stat().st_mode & 0o777 == 0o644
    assert tidy.stat().st_mtime_ns == tidy_mtime
    assert sorted(p.name for p in tmp_path.iterdir()) == ["messy.yaml", "tidy.yml"]  # no temp files left
    assert format_paths([tmp_path]) == []


def test_one_broken_file_stops_the_run_before_anything_is_written(tmp_path):
    messy, broken = tmp_path / "a.yaml", tmp_path / "b.yaml"
    messy.write_text(MESSY, encoding="utf-8")
    broken.write_text("rules: [a\n", encoding="utf-8")
    with pytest.raises(RulebookError) as info:
        format_paths([tmp_path])
    assert [d.location.file for d in info.value.diagnostics] == [str(broken)]
    assert messy.read_text(encoding="utf-8") == MESSY


# ---------------------------------------------------------------- the command
def test_fmt_command_check_then_write(tmp_path):
    from click.testing import CliRunner
    from ecorules.cli import main
    messy = tmp_path / "a.yaml"
    messy.write_text(MESSY, encoding="utf-8")
    runner = CliRunner()
    checked = runner.invoke(main, ["fmt", "--check", str(tmp_path)])
    assert checked.exit_code == 1 and f"需要格式化 / would reformat: {messy}" in checked.output
    assert messy.read_text(encoding="utf-8") == MESSY
    written = runner.invoke(main, ["fmt", str(tmp_path)])
    assert written.exit_code == 0 and "已格式化 1 个文件" in written.output
    assert messy.read_text(encoding="utf-8") == TIDY
    again = runner.invoke(main, ["fmt", "--check", str(messy)])
    assert again.exit_code == 0 and "所有文件格式规范" in again.output


def test_fmt_command_on_a_broken_file_gives_a_located_diagnostic(tmp_path):
    from click.testing import CliRunner
    from ecorules.cli import main
    broken = tmp_path / "b.yaml"
    broken.write_text("stage: assign\nrules:\n  - id: a\n    title: [unclosed\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["fmt", str(broken)])
    assert result.exit_code == 1
    assert f"{broken}:" in result.output and "E101" in result.output and "Traceback" not in result.output


# ---------------------------------------------------------------- files fmt cannot or must not replace
def test_a_symlinked_file_is_written_through_the_link(tmp_path):
    target = tmp_path / "shared" / "air.yaml"
    target.parent.mkdir()
    target.write_text(MESSY, encoding="utf-8")
    rules = tmp_path / "rules"
    rules.mkdir()
    link = rules / "air.yaml"
    link.symlink_to(os.path.relpath(target, rules))
    assert format_paths([rules]) == [link]
    assert link.is_symlink() and os.readlink(link) == os.path.relpath(target, rules)
    assert target.read_text(encoding="utf-8") == TIDY
    assert sorted(p.name for p in target.parent.iterdir()) == ["air.yaml"]  # no temp file left beside the target


def test_a_read_only_directory_is_e121_and_nothing_is_written(tmp_path, monkeypatch):
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    first.write_text(MESSY, encoding="utf-8")
    second.write_text(MESSY, encoding="utf-8")
    real_access = os.access
    # as root, chmod does not stop a write: let the directory say it is read-only
    monkeypatch.setattr(os, "access", lambda path, mode: False if str(path) == str(tmp_path) else real_access(path, mode))
    with pytest.raises(RulebookError) as info:
        format_paths([tmp_path])
    assert [(d.code, d.location.file) for d in info.value.diagnostics] == [("E121", str(first)), ("E121", str(second))]
    assert "不可写" in info.value.diagnostics[0].message
    assert first.read_text(encoding="utf-8") == MESSY and second.read_text(encoding="utf-8") == MESSY


def test_a_write_that_fails_anyway_is_e121_not_a_traceback(tmp_path, monkeypatch):
    from click.testing import CliRunner
    from ecorules.cli import main
    messy = tmp_path / "a.yaml"
    messy.write_text(MESSY, encoding="utf-8")

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")
    monkeypatch.setattr("tempfile.mkstemp", refuse)
    result = CliRunner().invoke(main, ["fmt", str(tmp_path)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"{messy}:1:1: E121" in result.output and "没有文件被改写" in result.output
    assert messy.read_text(encoding="utf-8") == MESSY


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_a_really_read_only_directory(tmp_path):
    messy = tmp_path / "ro" / "a.yaml"
    messy.parent.mkdir()
    messy.write_text(MESSY, encoding="utf-8")
    os.chmod(messy.parent, 0o555)
    try:
        with pytest.raises(RulebookError) as info:
            format_paths([messy.parent])
        assert [d.code for d in info.value.diagnostics] == ["E121"]
    finally:
        os.chmod(messy.parent, 0o755)


def test_fmt_refuses_hostile_yaml_with_the_codes_check_gives(tmp_path):
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{n}: &{n} [{', '.join(['*' + p] * 10)}]\n" for p, n in zip("abcdefgh", "bcdefghi")), encoding="utf-8")
    deep = tmp_path / "deep.yaml"
    deep.write_text("rules:\n  " + "- " * 450 + "x\n", encoding="utf-8")
    with pytest.raises(RulebookError) as info:
        format_paths([tmp_path])
    assert sorted(d.code for d in info.value.diagnostics) == ["E114", "E115"]
