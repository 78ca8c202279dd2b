"""`ecorules schema rulebook`: a JSON Schema an editor's YAML language server can use on every rulebook file."""
from __future__ import annotations

import datetime as dt
import json
import re

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from conftest import RULES
from ecorules.cli import main
from ecorules.spec import rulebook_schema

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def _properties(node, path=""):
    """Every (path, property schema) under `node`."""
    if isinstance(node, dict):
        for name, prop in (node.get("properties") or {}).items():
            yield f"{path}.{name}", prop
        for key, value in node.items():
            yield from _properties(value, f"{path}/{key}")
    elif isinstance(node, list):
        for value in node:
            yield from _properties(value, path)


def test_every_key_has_a_chinese_description():
    missing = [path for path, prop in _properties(rulebook_schema()) if not CHINESE.search(prop.get("description", ""))]
    assert missing == []


def _as_editor_sees_it(value):
    """A YAML language server reads 2024-01-01 as text (YAML 1.2); PyYAML makes it a date."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _as_editor_sees_it(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_editor_sees_it(v) for v in value]
    return value


@pytest.mark.parametrize("path", sorted(RULES.rglob("*.yaml")), ids=lambda p: str(p.relative_to(RULES)))
def test_every_shipped_file_is_valid_against_the_schema(path):
    data = _as_editor_sees_it(yaml.safe_load(path.read_text(encoding="utf-8")))
    jsonschema.Draft202012Validator(rulebook_schema()).validate(data)


def test_the_schema_rejects_what_check_rejects():
    validator = jsonschema.Draft202012Validator(rulebook_schema())
    rule = {"id": "a", "title": "t", "cite": "c", "when": "always", "lead": "sthj"}
    assert validator.is_valid({"stage": "assign", "rules": [rule]})
    assert validator.is_valid({"stage": "assign", "rules": [{**rule, "when": {"category": "x"}}]})
    assert not validator.is_valid({"stage": "assign", "rules": [{k: v for k, v in rule.items() if k != "when"}]})  # E305
    assert not validator.is_valid({"stage": "assign", "rules": [{**rule, "when": "sometimes"}]})
    assert not validator.is_valid({"stage": "assign", "rules": [{**rule, "lead_by": "x"}]})   # unknown key
    assert not validator.is_valid({"stage": "assign", "rules": [{**rule, "priority": "高"}]})  # not a number
    assert not validator.is_valid({"stage": "decide", "rules": [rule]})                      # unknown stage


def test_schema_command_writes_a_file(tmp_path):
    target = tmp_path / "rulebook.schema.json"
    result = CliRunner().invoke(main, ["schema", "rulebook", "-o", str(target)])
    assert result.exit_code == 0 and result.stdout == ""
    assert json.loads(target.read_text(encoding="utf-8")) == rulebook_schema()
