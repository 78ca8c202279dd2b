"""The `ecorules` command: a thin click shell — each command parses, calls the library, renders.

Errors are caught once (`EcorulesError` renders itself); tracebacks only with --debug.
Exit codes: 0 success; 1 rulebook or usage error (or failing rule tests / diagnostics);
3 `resolve` finished but some rows were invalid.
"""
from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Optional

import click

from . import __version__
from .engine import Engine, default_rules_path
from .errors import EcorulesError, RulebookError, summary_line
from .explain import explain_lines
from .formats import BadRow, read_jsonl, write_jsonl
from .rulebook import check_rulebook, load_rulebook
from .ruletests import run_rule_tests

EXIT_INVALID_ROWS = 3


class _Group(click.Group):
    """Catches our errors once and renders them without a traceback (unless --debug)."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except EcorulesError as exc:
            if ctx.params.get("debug"):
                raise
            click.echo(exc.format_message(), err=True)
            ctx.exit(exc.exit_code)


rules_option = click.option("--rules", "rules_dir", type=click.Path(file_okay=False), default=None,
                            help="规则库目录（默认：随附的上海规则库） / rulebook directory (default: the shipped one)")


def _engine(rules_dir: Optional[str]) -> Engine:
    return Engine.from_directory(rules_dir or default_rules_path())


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="出错时显示完整的 Python 回溯 / show tracebacks")
@click.version_option(__version__, prog_name="ecorules")
def main(debug):
    """ecorules：依据沪环督〔2024〕123号，判断生态环境保护具体事项由谁牵头、谁配合、向哪里上报。

    Decide the lead department for Shanghai environmental-protection matters.
    """


@main.command()
@click.argument("file", type=click.File("r", encoding="utf-8-sig"))
@rules_option
@click.option("-o", "--output", type=click.File("w", encoding="utf-8", atomic=True), default="-",
              help="输出文件（默认标准输出） / output file (default stdout)")
def resolve(file, rules_dir, output):
    """逐行读取事项（JSONL，- 为标准输入），逐行输出判断结果（JSONL）。

    Resolve matters from FILE (JSONL, or - for stdin); one JSON resolution per line.
    Exit 0 when every row resolved or was routed, 3 when some rows were invalid.
    """
    engine = _engine(rules_dir)
    invalid = 0
    for row in read_jsonl(file):
        if isinstance(row, BadRow):
            result = engine.invalid(None, row.message)
        else:
            result = engine.resolve(row)
        invalid += result.status == "invalid"
        write_jsonl(result, output)
    if invalid:
        click.echo(f"{invalid} 行无效（invalid），其余已判断。", err=True)
        sys.exit(EXIT_INVALID_ROWS)


@main.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False))
@click.option("--strict", is_flag=True, help="警告也视为错误 / warnings are errors")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", help="输出格式 / output format")
def check(directory, strict, fmt):
    """检查规则库：加载、校验、组织图不变量。无错误退出码 0，有错误 1。

    Lint a rulebook directory (default: the shipped one). Exit 0 when clean, 1 with errors.
    """
    rulebook, diagnostics = check_rulebook(directory or default_rules_path())
    failing = [d for d in diagnostics if d.severity == "error" or strict]
    if fmt == "json":
        click.echo(json.dumps({"diagnostics": [d.to_dict() for d in sorted(diagnostics, key=lambda d: d.sort_key())],
                               "errors": sum(d.severity == "error" for d in diagnostics),
                               "warnings": sum(d.severity == "warning" for d in diagnostics)},
                              ensure_ascii=False, indent=2))
    else:
        for diagnostic in sorted(diagnostics, key=lambda d: d.sort_key()):
            click.echo(diagnostic.format())
        if diagnostics:
            click.echo(summary_line(diagnostics))
        else:
            click.echo(f"规则库无问题：{len(rulebook.rules)} 条规则，{len(rulebook.tests)} 个测试。"
                       f" OK: {len(rulebook.rules)} rules, {len(rulebook.tests)} tests.")
    sys.exit(1 if failing else 0)


@main.command(name="test")
@click.argument("directory", required=False, type=click.Path(file_okay=False))
def test_command(directory):
    """运行规则库自带的测试（tests: 文件），逐条报告期望与实际的差异。

    Run the rulebook's own tests; exit 1 when any fails.
    """
    engine = Engine.from_directory(directory or default_rules_path())
    outcomes = run_rule_tests(engine)
    for outcome in outcomes:
        mark = "通过 PASS" if outcome.passed else "失败 FAIL"
        click.echo(f"{mark}  {outcome.name}  ({outcome.test.file}:{outcome.test.line})")
        for line in outcome.differences:
            click.echo(f"      {line}")
    failed = sum(not o.passed for o in outcomes)
    click.echo(f"{len(outcomes) - failed} 通过，{failed} 失败 / {len(outcomes) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


def _fact_pair(text: str):
    if "=" not in text:
        raise click.BadParameter(f"应写作 名称=值，得到 '{text}'")
    name, value = text.split("=", 1)
    try:
        return name.strip(), json.loads(value)
    except json.JSONDecodeError:
        return name.strip(), value


@main.command()
@click.option("--file", "matter_file", type=click.File("r", encoding="utf-8-sig"),
              help="含一个事项的 JSON 文件（- 为标准输入） / a JSON file holding one matter")
@click.option("--title", help="事项标题 / title")
@click.option("--id", "matter_id", default="explain", show_default=True)
@click.option("--district", help="所属区 / district")
@click.option("--category", help="事项类别 / category id")
@click.option("--approved-by", help="审批部门 / approving department")
@click.option("--source", help="来源 / source")
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), help="判断日期 YYYY-MM-DD")
@click.option("--fact", "facts", multiple=True, help="事实 名称=值（可重复） / fact name=value (repeatable)")
@click.option("--why-not", help="为何不是该部门牵头 / why is this department not the lead?")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="输出完整 JSON / print the resolution as JSON")
@rules_option
def explain(matter_file, title, matter_id, district, category, approved_by, source, as_of, facts, why_not, lang,
            as_json, rules_dir):
    """以中文说明一个事项的判断：适用的规则、依据条款、为何胜出、其他候选为何落选。

    Explain one matter in readable Chinese (or --lang en), with citations.
    """
    if matter_file:
        matter = json.load(matter_file)
    elif title:
        matter = {"id": matter_id, "title": title, "district": district, "category": category,
                  "approved_by": approved_by, "source": source,
                  "as_of": as_of.date().isoformat() if as_of else None, "facts": dict(_fact_pair(f) for f in facts)}
        matter = {k: v for k, v in matter.items() if v not in (None, {})}
    else:
        raise click.UsageError("请用 --title 给出事项，或用 --file 给出 JSON 文件。 Give --title or --file.")
    engine = _engine(rules_dir)
    resolution = engine.resolve(matter)
    if as_json:
        click.echo(resolution.model_dump_json(indent=2))
    else:
        for line in explain_lines(resolution, engine.rulebook, lang=lang, why_not=why_not):
            click.echo(line)
    sys.exit(1 if resolution.status == "invalid" else 0)


@main.command()
@click.argument("which", type=click.Choice(["all", "matter", "resolution", "rulebook"]), default="all")
def schema(which):
    """输出 JSON Schema：事项（matter）、结果（resolution）或规则文件（rulebook）。

    Print the JSON Schema of matters, resolutions or rule files.
    """
    from .model import Matter, Resolution
    from .spec import RuleFile
    schemas = {"matter": Matter.model_json_schema(), "resolution": Resolution.model_json_schema(),
               "rulebook": RuleFile.model_json_schema(by_alias=True)}
    click.echo(json.dumps(schemas if which == "all" else schemas[which], ensure_ascii=False, indent=2))
