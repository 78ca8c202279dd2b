"""ecorules._yaml: safe loading that remembers the 1-based line:col of every key and value."""
from __future__ import annotations

import datetime as dt
import textwrap

import pytest

from ecorules._yaml import YamlDoc, load_yaml
from ecorules.errors import Location

F = "rules/assign.yaml"


def load(text: str):
    return load_yaml(textwrap.dedent(text).lstrip("\n"), F)


def ok(text: str) -> YamlDoc:
    doc, problems = load(text)
    assert problems == []
    assert doc is not None
    return doc


def at(line: int, col: int) -> Location:
    return Location(F, line, col)


# ---------------------------------------------------------------- values and positions
RULE = """
    stage: assign
    rules:
      - id: air.dust
        title: 工地扬尘
        lead: zjw
        assist: [sthj, lhsr]
"""


def test_plain_data():
    doc = ok(RULE)
    assert doc.file == F
    assert doc.data == {"stage": "assign",
                        "rules": [{"id": "air.dust", "title": "工地扬尘", "lead": "zjw", "assist": ["sthj", "lhsr"]}]}


def test_key_positions_are_one_based():
    doc = ok(RULE)
    assert doc.keys[("stage",)] == at(1, 1)
    assert doc.keys[("rules",)] == at(2, 1)
    assert doc.keys[("rules", 0, "id")] == at(3, 5)
    assert doc.keys[("rules", 0, "lead")] == at(5, 5)
    assert doc.keys[("rules", 0, "assist")] == at(6, 5)


def test_value_positions_are_one_based():
    doc = ok(RULE)
    assert doc.values[()] == at(1, 1)
    assert doc.values[("stage",)] == at(1, 8)
    assert doc.values[("rules", 0)] == at(3, 5)          # a sequence item: where its mapping starts
    assert doc.values[("rules", 0, "id")] == at(3, 9)
    assert doc.values[("rules", 0, "lead")] == at(5, 11)
    assert doc.values[("rules", 0, "assist")] == at(6, 13)
    assert doc.values[("rules", 0, "assist", 0)] == at(6, 14)
    assert doc.values[("rules", 0, "assist", 1)] == at(6, 20)


def test_columns_count_characters_not_bytes():
    # each Chinese character is 3 bytes in UTF-8 but one column
    doc = ok("""
        rules:
          - {title: 工地夜间扬尘, lead: zjw, assist: [环保局, lhsr]}
    """)
    assert doc.keys[("rules", 0, "lead")] == at(2, 21)
    assert doc.values[("rules", 0, "lead")] == at(2, 27)
    assert doc.values[("rules", 0, "assist", 0)] == at(2, 41)
    assert doc.values[("rules", 0, "assist", 1)] == at(2, 46)


def test_flow_and_block_styles_give_the_same_data():
    block = ok("""
        when:
          category: construction_dust
          facts.area: {gte: 100}
    """)
    flow = ok("when: {category: construction_dust, facts.area: {gte: 100}}")
    assert block.data == flow.data
    assert flow.keys[("when", "facts.area", "gte")] == at(1, 50)


def test_where_prefers_the_exact_entry():
    doc = ok(RULE)
    assert doc.where(("rules", 0, "lead")) == at(5, 11)
    assert doc.where(("rules", 0, "lead"), key=True) == at(5, 5)


def test_where_walks_up_to_the_nearest_known_parent():
    doc = ok(RULE)
    # a key that is not there (e.g. a missing `cite`) is reported where its mapping starts
    assert doc.where(("rules", 0, "cite")) == at(3, 5)
    assert doc.where(("rules", 0, "cite"), key=True) == at(3, 5)
    assert doc.where(("rules", 7, "lead")) == at(3, 3)   # no rule 7: the `rules:` list itself
    assert doc.where(()) == at(1, 1)
    assert doc.where(("nope", "deeper")) == at(1, 1)


def test_where_on_an_empty_document_is_line_one():
    doc, problems = load("")
    assert problems == [] and doc.data is None
    assert doc.where(("rules", 0)) == at(1, 1)


def test_non_string_keys_are_kept_and_complex_keys_refused():
    doc = ok("2: two\nyes: on\n")
    assert doc.data == {2: "two", True: True}
    _, problems = load("? [a, b]\n: 1\n")
    assert [(p.code, p.location) for p in problems] == [("E105", at(1, 3))]


# ---------------------------------------------------------------- duplicate keys
def test_duplicate_key_is_an_error_at_the_second_key():
    doc, problems = load("""
        stage: assign
        rules:
          - id: air.dust
            lead: zjw
            assist: [sthj]
            lead: sthj
    """)
    assert [p.code for p in problems] == ["E103"]
    problem = problems[0]
    assert problem.location == at(6, 5)
    assert "'lead'" in problem.message and "第 4 行" in problem.message
    assert problem.severity == "error" and problem.suggestion


def test_every_duplicate_key_is_reported():
    _, problems = load("""
        a: {x: 1, x: 2}
        b:
          - {y: 1, y: 2}
        a: 3
    """)
    assert [(p.code, p.location.line, p.location.col) for p in problems] == [
        ("E103", 1, 11), ("E103", 3, 12), ("E103", 4, 1)]


def test_same_key_in_different_mappings_is_fine():
    doc = ok("""
        rules:
          - {id: a, lead: zjw}
          - {id: b, lead: zjw}
    """)
    assert [r["lead"] for r in doc.data["rules"]] == ["zjw", "zjw"]


def test_int_key_and_string_key_are_different_keys():
    doc = ok('1: a\n"1": b\n')
    assert doc.data == {1: "a", "1": "b"}


# ---------------------------------------------------------------- tags
@pytest.mark.parametrize("tagged, shown", [
    ('!!python/object/apply:os.system ["touch PWNED"]', "python/object/apply:os.system"),
    ('!!python/object/apply:builtins.open ["PWNED", "w"]', "python/object/apply:builtins.open"),
    ('!!python/object/new:builtins.open ["PWNED", "w"]', "python/object/new:builtins.open"),
    ("!!python/name:os.system", "python/name:os.system"),
    ("!!python/tuple [1, 2]", "python/tuple"),
    ("!my-tag value", "!my-tag"),
    ("!!set {a, b}", "set"),
    ("!!omap [a: 1]", "omap"),
])
def test_tags_outside_the_core_schema_are_refused_and_never_run(tagged, shown, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    doc, problems = load(f"stage: assign\ntitle: {tagged}\n")
    assert [p.code for p in problems] == ["E102"]
    assert problems[0].location == at(2, 8)
    assert shown in problems[0].message
    assert doc.data["title"] is None                     # nothing was constructed
    assert list(tmp_path.iterdir()) == []                # and nothing was executed


def test_refused_tag_at_the_root():
    doc, problems = load("!!python/object/apply:os.system [ls]\n")
    assert [p.code for p in problems] == ["E102"]
    assert problems[0].location == at(1, 1)
    assert doc.data is None


def test_every_refused_tag_is_reported():
    _, problems = load("""
        a: !!python/name:os.system
        b:
          - !!python/name:os.remove
    """)
    assert [(p.code, p.location.line) for p in problems] == [("E102", 1), ("E102", 3)]


@pytest.mark.parametrize("text, value", [
    ("a: !!str 123", "123"),
    ('a: !!int "5"', 5),
    ("a: !!float 1", 1.0),
    ("a: !!bool true", True),
    ("a: !!null ''", None),
    ("a: !!timestamp 2024-01-01", dt.date(2024, 1, 1)),
])
def test_core_schema_tags_are_allowed(text, value):
    assert ok(text).data == {"a": value}


# ---------------------------------------------------------------- merge keys
def test_merge_key_copies_the_anchored_mapping():
    doc = ok("""
        base: &dust
          lead: zjw
          assist: [sthj]
        rule:
          <<: *dust
          id: air.dust
    """)
    assert doc.data["rule"] == {"lead": "zjw", "assist": ["sthj"], "id": "air.dust"}
    assert doc.data["base"] == {"lead": "zjw", "assist": ["sthj"]}
    # merged keys are located where they were written (under the anchor)
    assert doc.keys[("rule", "lead")] == at(2, 3)
    assert doc.values[("rule", "assist", 0)] == at(3, 12)
    assert doc.keys[("rule", "id")] == at(6, 3)


def test_merge_key_with_a_list_of_mappings():
    doc = ok("""
        a: &a {x: 1}
        b: &b {y: 2}
        c:
          <<: [*a, *b]
          z: 3
    """)
    assert doc.data["c"] == {"x": 1, "y": 2, "z": 3}


def test_plain_anchor_and_alias():
    doc = ok("""
        common: &assist [sthj, lhsr]
        rules:
          - {id: a, assist: *assist}
    """)
    assert doc.data["rules"][0]["assist"] == ["sthj", "lhsr"]


def test_merge_key_own_keys_override_merged_ones():
    doc, problems = load("""
        base: &dust
          lead: zjw
          priority: 50
        rule:
          <<: *dust
          priority: 90
    """)
    assert problems == []
    assert doc.data["rule"] == {"lead": "zjw", "priority": 90}


def test_merge_key_with_a_scalar_is_a_diagnostic():
    doc, problems = load("""
        rule:
          <<: 5
          lead: zjw
    """)
    assert problems and problems[0].code.startswith("E1")
    assert problems[0].location.line == 2


# ---------------------------------------------------------------- dates and other scalars
def test_dates_become_dates_and_quoted_dates_stay_text():
    doc = ok("""
        from: 2018-12-20
        at: 2024-01-01T10:00:00
        quoted: "2018-12-20"
    """)
    assert doc.data["from"] == dt.date(2018, 12, 20)
    assert isinstance(doc.data["at"], dt.datetime)
    assert doc.data["quoted"] == "2018-12-20"


@pytest.mark.parametrize("date", ["2024-13-01", "2024-02-30"])
def test_impossible_date_is_a_diagnostic(date):
    doc, problems = load(f"""
        rules:
          - id: air.dust
            effective: {{from: {date}}}
    """)
    assert len(problems) == 1 and problems[0].code.startswith("E1")
    assert problems[0].location == at(3, 23)
    assert date in problems[0].message


@pytest.mark.parametrize("text", [
    "a: !!int abc", "a: !!float abc", "a: !!bool maybe", "a: !!timestamp yesterday",
    'a: !!binary "not base64!!"', "a: !!map x",
])
def test_core_tag_with_a_bad_value_is_a_diagnostic(text):
    doc, problems = load(text)
    assert len(problems) == 1
    assert problems[0].location == at(1, 4)


def test_yaml_1_1_scalars_legal_staff_should_know_about():
    """PyYAML reads YAML 1.1: these are facts of the format, documented here so nobody is surprised."""
    doc = ok("""
        enforcement_bare: yes
        enforcement_quoted: "yes"
        tiny_without_dot: 1e-05
        tiny_with_dot: 1.0e-05
        octal: 017
    """)
    assert doc.data["enforcement_bare"] is True        # hence `enforcement: "yes"` in org data
    assert doc.data["enforcement_quoted"] == "yes"
    assert doc.data["tiny_without_dot"] == "1e-05"     # text, not a number
    assert doc.data["tiny_with_dot"] == 1e-05
    assert doc.data["octal"] == 15


# ---------------------------------------------------------------- empty and broken documents
@pytest.mark.parametrize("text", ["", "\n\n", "# 只有注释\n", "---\n", "~\n"])
def test_empty_document_is_none_without_problems(text):
    doc, problems = load_yaml(text, F)
    assert problems == []
    assert doc is not None and doc.data is None


def test_scalar_document():
    assert ok("hello").data == "hello"


def test_syntax_error_is_one_diagnostic_at_the_problem():
    doc, problems = load("""
        stage: assign
        rules:
          - id: air.dust
            title: 工地扬尘: 夜间
    """)
    assert doc is None
    assert [p.code for p in problems] == ["E101"]
    assert problems[0].location == at(4, 16)
    assert problems[0].suggestion


def test_tab_indent_is_a_syntax_error_on_its_line():
    doc, problems = load_yaml("rules:\n  - id: a\n\ttitle: t\n", F)
    assert doc is None
    assert [(p.code, p.location) for p in problems] == [("E101", at(3, 1))]


def test_several_documents_in_one_file_are_refused():
    doc, problems = load("a: 1\n---\nb: 2\n")
    assert doc is None
    assert [(p.code, p.location.line) for p in problems] == [("E101", 2)]


@pytest.mark.parametrize("text, line, col", [
    pytest.param('stage: assign\ntitle: "工地扬尘\ncite: c\nlead: zjw\n', 2, 8, id="quote"),
    pytest.param("stage: assign\nassist: [sthj, lhsr\nlead: zjw\n", 2, 9, id="bracket"),
])
def test_unclosed_quote_or_bracket_points_where_it_opens(text, line, col):
    _, problems = load_yaml(text, F)
    assert [p.code for p in problems] == ["E101"]
    assert (problems[0].location.line, problems[0].location.col) == (line, col)


def test_nothing_is_constructed_when_the_text_is_broken():
    doc, problems = load("a: [1, 2\n")
    assert doc is None and problems


def test_libyaml_and_pure_python_parsers_give_the_same_data_and_positions(monkeypatch):
    """load_yaml composes with libyaml when available; positions must not depend on which parser ran."""
    import yaml as pyyaml

    from conftest import RULES
    from ecorules import _yaml
    files = sorted(RULES.rglob("*.yaml"))
    fast = {f: _yaml.load_yaml(f.read_text(encoding="utf-8"), str(f)) for f in files}
    monkeypatch.setattr(_yaml, "_FAST_LOADER", pyyaml.SafeLoader)
    for f in files:
        doc, problems = _yaml.load_yaml(f.read_text(encoding="utf-8"), str(f))
        fast_doc, fast_problems = fast[f]
        assert (doc.data, doc.values, problems) == (fast_doc.data, fast_doc.values, fast_problems), f


# ---------------------------------------------------------------- limits: measured before anything is built
def _nested_mappings(levels: int) -> str:
    """`levels` mappings inside each other, the innermost holding one scalar."""
    return "a:\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(levels - 1)) + "  " * levels + "v\n"


def test_nesting_up_to_the_limit_loads_and_one_more_is_e114():
    from ecorules._yaml import MAX_DEPTH
    doc, problems = load_yaml(_nested_mappings(MAX_DEPTH), "f.yaml")
    assert problems == [] and doc.data
    _, problems = load_yaml(_nested_mappings(MAX_DEPTH + 1), "f.yaml")
    assert [p.code for p in problems] == ["E114"]


@pytest.mark.parametrize("levels", [500, 5_000, 100_000])
def test_any_depth_is_e114_never_a_recursion_error(levels):
    for text in ("[" * levels + "]" * levels, "- " * levels + "x", "{a: " * levels + "1" + "}" * levels):
        doc, problems = load_yaml(text, "f.yaml")
        assert doc is None and [p.code for p in problems] == ["E114"], text[:20]


def test_depth_reached_through_an_alias_counts():
    text = "x: &x " + "[" * 40 + "1" + "]" * 40 + "\ny: " + "[" * 30 + "*x" + "]" * 30 + "\n"
    _, problems = load_yaml(text, "f.yaml")
    assert [p.code for p in problems] == ["E114"]


def test_aliases_are_counted_and_expansion_is_measured_not_done():
    from ecorules._yaml import MAX_ALIASES
    many = "a: &s hello\n" + "".join(f"k{i}: *s\n" for i in range(MAX_ALIASES + 1))
    assert [p.code for p in load_yaml(many, "f.yaml")[1]] == ["E115"]
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{n}: &{n} [{', '.join(['*' + p] * 10)}]\n" for p, n in zip("abcdefgh", "bcdefghi"))  # 10^9 values
    _, problems = load_yaml(bomb, "f.yaml")
    assert [p.code for p in problems] == ["E115"] and "别名炸弹" in problems[0].message
    _, problems = load_yaml("a: &r [1, *r]\n", "f.yaml")
    assert [p.code for p in problems] == ["E115"] and "递归" in problems[0].message


def test_ordinary_anchors_and_merge_keys_still_load():
    doc, problems = load_yaml("base: &b {a: 1}\nr: {<<: *b, c: 2}\nlist: &l [1, 2]\nagain: *l\n", "f.yaml")
    assert problems == [] and doc.data == {"base": {"a": 1}, "r": {"c": 2, "a": 1}, "list": [1, 2], "again": [1, 2]}


def test_deep_nesting_is_e114_without_libyaml_too(monkeypatch):
    import yaml as pyyaml

    from ecorules import _yaml
    monkeypatch.setattr(_yaml, "_FAST_LOADER", pyyaml.SafeLoader)   # the pure-Python composer recurses
    for text in ("[" * 1500 + "]" * 1500, "a: [" + "[" * 500 + "x: ]" + "]" * 500):
        doc, problems = load_yaml(text, "f.yaml")
        assert doc is None and [p.code for p in problems] in (["E114"], ["E101"]), problems
