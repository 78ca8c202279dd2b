"""The `ecorules` command: a thin click shell — each command parses, calls the library, renders.

Errors are caught once (`EcorulesError` renders itself); tracebacks only with --debug.
Exit codes: 0 success; 1 rulebook or usage error (or failing rule tests / diagnostics);
3 `resolve` finished but some rows were invalid; 130 `resolve` interrupted (partial output kept as .part).
"""
from __future__ import annotations

import json
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Optional

import click

from . import __version__
from .batch import BatchInterrupted, Progress, format_progress, run_batch
from .diff import diff_rulebooks, report_lines
from .engine import Engine, default_rules_path
from .errors import EcorulesError, summary_line
from .explain import explain_lines
from .io import FORMATS, FormatError, format_of, read_matters
from .io.encoding import os_reason
from .io.writers import write_text
from .lint import lint_rulebook
from .rulebook import load_rulebook
from .ruletests import coverage, junit_xml, run_rule_tests


class _UsageExitsOne:
    """Every usage error exits 1 (the README's contract), not click's default 2."""

    def parse_args(self, ctx, args):
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            exc.exit_code = 1
            raise


class _Command(_UsageExitsOne, click.Command):
    pass


class _Group(_UsageExitsOne, click.Group):
    """Catches our errors once and renders them without a traceback (unless --debug); usage errors exit 1."""

    command_class = _Command

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:  # an unknown command, or one raised by a command itself
            exc.exit_code = 1
            raise
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


def _progress_printer(stream):
    def show(progress: Progress):
        stream.write("\r\033[K" + format_progress(progress))
        stream.flush()
    return show


@main.command()
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True), default="-",
              help="输出文件，格式按扩展名（.jsonl .csv .xlsx）；默认标准输出 JSONL / output file (default: JSONL on stdout)")
@click.option("--format", "output_format", type=click.Choice(FORMATS), help="输出格式 / output format")
@click.option("--input-format", type=click.Choice(FORMATS), help="输入格式（默认按扩展名；标准输入为 jsonl）")
@click.option("--encoding", help="CSV/JSONL 输入编码（默认自动判断 UTF-8 或 GB18030） / input encoding")
@click.option("--sheet", help="XLSX 工作表名（默认第一个） / XLSX sheet (default: the first)")
@click.option("--workers", type=click.IntRange(min=0), default=1, show_default=True,
              help="并行进程数，0 = CPU 核数；结果与顺序同 --workers 1 / processes (0 = all cores)")
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]),
              help="判断日期 YYYY-MM-DD，用于没有自带日期的行（默认今天） / date for rows without one")
@click.option("--errors", "errors_file", type=click.Path(dir_okay=False),
              help="把无效行按输入格式写入此文件，改正后可重跑 / write invalid rows here, in the input's format")
@click.option("--summary", "summary_file", type=click.Path(dir_okay=False, allow_dash=True),
              help="把汇总写成 JSON 文件 / write the summary as JSON")
@click.option("--resume", is_flag=True,
              help="跳过输出（或其 .part）中已有编号的行，接着写 / skip ids already in the output")
@click.option("-q", "--quiet", is_flag=True, help="不显示进度和汇总 / no progress, no summary")
@rules_option
def resolve(file, output, output_format, input_format, encoding, sheet, workers, as_of, errors_file, summary_file,
            resume, quiet, rules_dir):
    """逐行判断事项：JSONL、CSV、XLSX 输入（- 为标准输入），JSONL、CSV、XLSX 输出。

    Resolve every row of FILE (JSONL, CSV or XLSX; - for stdin). Exit 0 when every row resolved or was
    routed, 3 when some rows were invalid (every row still gets a result), 1 on a rulebook or usage
    error, 130 when interrupted (the partial output stays as OUTPUT.part; rerun with --resume).
    """
    stderr = sys.stderr
    show = _progress_printer(stderr) if not quiet and stderr.isatty() else None
    previous = signal.signal(signal.SIGTERM, _interrupt) if _main_thread() else None
    try:
        summary = run_batch(file, output, rules=rules_dir, input_format=input_format, output_format=output_format,
                            encoding=encoding, sheet=sheet, workers=workers,
                            as_of=as_of.date() if as_of else None, errors=errors_file, summary_file=summary_file,
                            resume=resume, on_progress=show)
    except BatchInterrupted as exc:
        if file != "-" or sys.stdin is not sys.__stdin__:
            raise
        # the batch reader thread may still be blocked reading the real stdin: at a normal interpreter shutdown it
        # holds stdin's lock and CPython aborts ("could not acquire lock for <stdin>"), losing the exit code
        click.echo(str(exc), err=True)
        sys.stdout.flush()
        stderr.flush()
        os._exit(exc.exit_code)
    finally:
        if show:
            stderr.write("\r\033[K")
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    if summary_file == "-":
        stderr.write(json.dumps(summary.to_dict(), ensure_ascii=False, indent=2) + "\n")
    if not quiet:
        for line in summary.lines():
            click.echo(line, err=True)
    sys.exit(summary.exit_code)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@main.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False))
@click.option("--strict", is_flag=True, help="警告也视为错误 / warnings are errors")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", help="输出格式 / output format")
def check(directory, strict, fmt):
    """检查规则库：加载、校验、组织图不变量。无错误退出码 0，有错误 1。

    Lint a rulebook directory (default: the shipped one). Exit 0 when clean, 1 with errors.
    """
    rulebook, diagnostics = lint_rulebook(directory or default_rules_path())
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
@click.option("--format", "fmt", type=click.Choice(["text", "junit"]), default="text", help="输出格式 / output format")
@click.option("-q", "--quiet", is_flag=True, help="只列出失败的测试和汇总 / list failures and the summary only")
def test_command(directory, fmt, quiet):
    """运行规则库自带的测试（tests: 文件），逐条报告期望与实际的差异，以及覆盖情况。

    Run the rulebook's own tests, with coverage of rules and of the policy's articles; exit 1 when any fails.
    """
    engine = Engine.from_directory(directory or default_rules_path())
    outcomes = run_rule_tests(engine)
    failed = sum(not o.passed for o in outcomes)
    if fmt == "junit":
        click.echo(junit_xml(outcomes), nl=False)
        sys.exit(1 if failed else 0)
    for outcome in outcomes:
        if quiet and outcome.passed:
            continue
        mark = "通过 PASS" if outcome.passed else "失败 FAIL"
        click.echo(f"{mark}  {outcome.name}  ({outcome.test.file}:{outcome.test.line})")
        for line in outcome.differences:
            click.echo(f"      {line}")
    report = coverage(engine.rulebook, outcomes)
    click.echo(f"规则覆盖 / rules exercised: {report.tested}/{report.total}")
    if report.untested_rules:
        click.echo("没有测试触发的规则 / rules no test exercised: " + ", ".join(report.untested_rules))
    if report.uncited_articles:
        click.echo("没有规则引用的实施意见条款 / articles no rule cites: " + "".join(report.uncited_articles))
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
@click.option("--file", "matter_file", type=click.Path(dir_okay=False, allow_dash=True),
              help="含一个事项的 JSON 文件（- 为标准输入），或与 --row 一起用的批量文件（JSONL/CSV/XLSX）"
                   " / a JSON file holding one matter, or a batch file with --row")
@click.option("--row", help="批量文件中的一行：事项编号或行号 / a row of the batch file: matter id or row number")
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
@click.option("--quote", is_flag=True, help="在结论下引用所采用规则的条文原文 / quote the cited articles under the conclusion")
@rules_option
def explain(matter_file, row, title, matter_id, district, category, approved_by, source, as_of, facts, why_not, lang,
            as_json, quote, rules_dir):
    """以中文说明一个事项的判断：适用的规则、依据条款、为何胜出、其他候选为何落选。

    Explain one matter in readable Chinese (or --lang en), with citations.
    """
    read_error = None
    if matter_file and row:
        matter, read_error = _batch_row(matter_file, row)
    elif matter_file:
        matter = _matter_file(matter_file)
    elif title:
        matter = {"id": matter_id, "title": title, "district": district, "category": category,
                  "approved_by": approved_by, "source": source,
                  "as_of": as_of.date().isoformat() if as_of else None, "facts": dict(_fact_pair(f) for f in facts)}
        matter = {k: v for k, v in matter.items() if v not in (None, {})}
    else:
        raise click.UsageError("请用 --title 给出事项，或用 --file 给出 JSON 文件。 Give --title or --file.")
    engine = _engine(rules_dir)
    resolution = engine.invalid(row, read_error) if read_error else engine.resolve(matter)
    if as_json:
        click.echo(resolution.model_dump_json(indent=2))
    else:
        for line in explain_lines(resolution, engine.rulebook, lang=lang, why_not=why_not, quote=quote):
            click.echo(line)
    sys.exit(1 if resolution.status == "invalid" else 0)


@main.command(name="fmt")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--check", is_flag=True, help="只检查不改写；有文件需要格式化时退出码 1 / report only; exit 1 if any file would change")
def fmt_command(paths, check):
    """规范规则文件：键的顺序、两格缩进；保留注释、引号和流式写法，不改变数据。

    Normalise rule files (key order, indentation) keeping comments; --check writes nothing.
    """
    from .fmt import format_paths  # ruamel.yaml is only needed here
    changed = format_paths(paths, check=check)
    for path in changed:
        click.echo(("需要格式化 / would reformat: " if check else "已格式化 / reformatted: ") + str(path))
    if check:
        click.echo(f"{len(changed)} 个文件需要格式化。" if changed else "所有文件格式规范。 All files formatted.")
    else:
        click.echo(f"已格式化 {len(changed)} 个文件。 {len(changed)} file(s) reformatted.")
    sys.exit(1 if check and changed else 0)


def _batch_row(path: str, wanted: str) -> tuple[Optional[dict], Optional[str]]:
    """(matter, None), or (None, why it could not be read) for the row whose id or row number is `wanted`."""
    for row in read_matters(path):
        if row.id == wanted or str(row.number) == wanted:
            return row.matter, row.error
    raise click.UsageError(f"{path} 中没有编号或行号为 {wanted} 的事项。 No row {wanted!r} in {path}.")


def _matter_file(path: str) -> dict:
    """The one matter of a JSON file (- for stdin); a batch file without --row is a usage error."""
    if path != "-" and Path(path).suffix.lower() in (".jsonl", ".ndjson", ".csv", ".xlsx", ".xlsm"):
        raise click.UsageError(f"{path} 是批量文件（{format_of(path, None)}）：请用 --row 指定其中一行（编号或行号）。"
                               f" Give --row ID to explain one row of a batch file.")
    try:
        with click.open_file(path, "rb") as stream:
            data = stream.read()
    except OSError as exc:
        raise FormatError(f"无法打开：{os_reason(exc)}", path) from None
    try:
        matter = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise FormatError("不是 UTF-8 编码的 JSON 文件；请另存为 UTF-8", path) from None
    except json.JSONDecodeError as exc:
        raise FormatError(f"不是一个 JSON 对象（第 {exc.lineno} 行第 {exc.colno} 列格式不正确）；批量文件请加 --row", path) \
            from None
    if not isinstance(matter, dict):
        raise FormatError("应为一个 JSON 对象（一个事项）；批量文件请加 --row", path)
    return matter


@main.command()
@click.argument("old_dir", type=click.Path(file_okay=False))
@click.argument("new_dir", type=click.Path(file_okay=False))
@click.argument("matters", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--input-format", type=click.Choice(FORMATS), help="事项文件格式（默认按扩展名） / format of MATTERS")
@click.option("--encoding", help="CSV/JSONL 编码（默认自动判断） / encoding of MATTERS")
@click.option("--sheet", help="XLSX 工作表名（默认第一个） / XLSX sheet")
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]),
              help="判断日期 YYYY-MM-DD，用于没有自带日期的事项（默认今天） / date for matters without one")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--exit-code", is_flag=True, help="有事项结果变化时退出码为 1 / exit 1 when any result changes")
def diff(old_dir, new_dir, matters, input_format, encoding, sheet, as_of, output_format, exit_code):
    """用两个规则库判断同一批事项，列出牵头、配合、状态或上报有变化的事项，按引起变化的规则分组。

    Resolve MATTERS under OLD_DIR and NEW_DIR; report every matter whose lead, assist, status or
    escalation changes, grouped by the rule change that caused it, with counts.
    """
    old, new = load_rulebook(old_dir), load_rulebook(new_dir)
    report = diff_rulebooks(old, new, read_matters(matters, input_format, encoding, sheet), as_of.date() if as_of else None)
    if output_format == "json":
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        for line in report_lines(report):
            click.echo(line)
    sys.exit(1 if exit_code and report.changes else 0)


@main.command()
@click.argument("which", type=click.Choice(["all", "matter", "resolution", "rulebook"]), default="all")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="写入文件（默认标准输出） / write to a file")
def schema(which, output):
    """输出 JSON Schema：事项（matter）、结果（resolution）或规则库文件（rulebook，供编辑器补全与检查）。

    Print the JSON Schema of matters, resolutions or rulebook files (for a YAML language server).
    """
    from .model import Matter, Resolution
    from .spec import rulebook_schema
    schemas = {"matter": Matter.model_json_schema(), "resolution": Resolution.model_json_schema(),
               "rulebook": rulebook_schema()}
    text = json.dumps(schemas if which == "all" else schemas[which], ensure_ascii=False, indent=2) + "\n"
    if output:
        write_text(output, text)
    else:
        click.echo(text, nl=False)


@main.command()
@rules_option
@click.option("--host", default="127.0.0.1", show_default=True, help="监听地址 / bind address")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True, help="端口 / port")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="工作进程数 / worker processes")
@click.option("--token-file", type=click.Path(dir_okay=False, exists=True),
              help="访问令牌文件（否则读环境变量 ECORULES_TOKEN）；有令牌时除 /healthz 外都须 Bearer 令牌"
                   " / bearer token file (else $ECORULES_TOKEN)")
@click.option("--max-body", type=click.IntRange(min=1), default=10 * 1024 * 1024, show_default=True,
              help="请求体上限（字节） / max request body in bytes")
@click.option("--max-batch", type=click.IntRange(min=1), default=10_000, show_default=True,
              help="一次请求的事项数上限 / max matters per request")
@click.option("--cors", multiple=True, metavar="ORIGIN", help="允许跨域的来源（可重复；默认关闭） / CORS origin")
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]), default="info",
              show_default=True)
def serve(rules_dir, host, port, workers, token_file, max_body, max_batch, cors, log_level):
    """以 HTTP 服务提供判断：POST /v1/resolve、/v1/explain，GET /v1/rulebook 等，以及浏览器工作台（/try 试算、/rules、
    /departments、/list、/batch）；SIGHUP 重新加载规则库。

    Serve decisions over HTTP (FastAPI + uvicorn) until SIGTERM, with the browser workbench at /; SIGHUP reloads
    the rulebook.
    """
    from .web.server import read_token, serve as run_server  # FastAPI and uvicorn are only needed here
    run_server(rules_dir, host=host, port=port, workers=workers, token=read_token(token_file), max_body=max_body,
               max_batch=max_batch, cors=cors, log_level=log_level)


@main.command()
@click.argument("draft", type=click.Path(dir_okay=False))
@click.option("--district", help="草案所属区（默认按草案标题判断，未写明区则按市级） / the draft's district (default: from its title)")
@click.option("--format", "output_format", type=click.Choice(["xlsx", "md", "json", "docx"]),
              help="输出格式（默认按 -o 的扩展名，否则 xlsx） / output format (default: from -o, else xlsx)")
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True),
              help="输出文件；默认 md/json 写到标准输出，xlsx/docx 写到草案旁的“草案名.审查意见.xlsx”"
                   " / output file (default: md/json to stdout, xlsx/docx beside the draft)")
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), help="判断日期 YYYY-MM-DD（默认今天）")
@rules_option
def review(draft, district, output_format, output, as_of, rules_dir):
    """审查政策草案（（九））：逐项任务给出建议牵头、配合部门及依据，与草案所列责任单位比对，列出未明确牵头的任务。

    Review a draft policy (DOCX, Markdown/text or an XLSX task table) task by task: the suggested lead and
    assistants with their basis beside the draft's own 责任单位. Exit 0 when reviewed, 1 when the draft cannot be
    read (PDF, encrypted, corrupt, empty, no task column) or on a usage error.
    """
    from .review import (ReviewError, default_output, output_format as format_for, render_json, render_markdown,
                         review_draft, summary_lines, write_review)
    fmt = format_for(output, output_format)
    if output == "-" and fmt in ("xlsx", "docx"):
        raise ReviewError(f"{fmt} 不能写到标准输出，请用 -o 指定文件。")
    result = review_draft(draft, rules=rules_dir, district=district, as_of=as_of.date() if as_of else None)
    if output in (None, "-") and fmt in ("md", "json"):
        click.echo(render_markdown(result) if fmt == "md" else render_json(result), nl=False)
        return
    target = write_review(result, output or default_output(draft, fmt), fmt)
    for line in summary_lines(result):
        click.echo(line, err=True)
    click.echo(f"审查意见已写入 {target}", err=True)


# ---------------------------------------------------------------- publish, graph (the workbench's list and picture)
@main.command()
@click.option("--jurisdiction", help="辖区：sh 或区代码、区名（huangpu、黄浦区） / jurisdiction")
@click.option("--all", "all_jurisdictions", is_flag=True,
              help="每个辖区（市级和 16 个区）各写一个文件到 -o 指定的目录 / one file per jurisdiction into the -o directory")
@click.option("--format", "output_format", type=click.Choice(["html", "xlsx", "md"]),
              help="输出格式（默认按 -o 的扩展名，否则 md） / output format (default: from -o, else md)")
@click.option("-o", "--output", type=click.Path(allow_dash=True),
              help="输出文件（--all 时为目录）；md/html 默认写到标准输出 / output file (a directory with --all)")
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), help="判断日期 YYYY-MM-DD（默认今天）")
@rules_option
def publish(jurisdiction, all_jurisdictions, output_format, output, as_of, rules_dir):
    """生成辖区的生态环境保护具体事项责任清单（每类事项的牵头、配合部门和依据；推定或有争议的行加标注）。

    Publish a jurisdiction's responsibility list: every matter category with its lead, assists and basis,
    as HTML (printable), XLSX or Markdown — the same content as the workbench page 责任清单.
    """
    from .publish import EXTENSIONS, build_list, publish_all, rendered, write_list
    if all_jurisdictions == bool(jurisdiction):
        raise click.UsageError("请给出 --jurisdiction X，或用 --all 为每个辖区各生成一份。 Give --jurisdiction or --all.")
    fmt = output_format or next((f for f, ext in EXTENSIONS.items()
                                 if output and output != "-" and output.lower().endswith(ext)), "md")
    day = as_of.date() if as_of else None
    engine = _engine(rules_dir)
    if all_jurisdictions:
        if not output or output == "-":
            raise click.UsageError("--all 需要用 -o 指定输出目录。 --all needs -o DIRECTORY.")
        written = publish_all(engine, output, fmt, day)
        click.echo(f"已写入 {len(written)} 份责任清单到 {output}", err=True)
        return
    if output in (None, "-"):
        if fmt == "xlsx":
            raise click.UsageError("xlsx 不能写到标准输出，请用 -o 指定文件。 XLSX needs -o FILE.")
        click.echo(rendered(build_list(engine, jurisdiction, day), fmt).decode("utf-8"), nl=False)
        return
    target = write_list(build_list(engine, jurisdiction, day), output, fmt)
    click.echo(f"责任清单已写入 {target}", err=True)


@main.command()
@click.option("--jurisdiction", required=True, help="辖区：sh 或区代码、区名 / jurisdiction")
@click.option("--title", help="突出显示这个事项的牵头、上报路径和移交 / a matter to highlight")
@click.option("--file", "matter_file", type=click.Path(dir_okay=False, allow_dash=True),
              help="含一个事项的 JSON 文件（- 为标准输入） / a JSON file holding one matter")
@click.option("--fact", "facts", multiple=True, help="事实 名称=值（可重复，与 --title 一起用）")
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), help="判断日期 YYYY-MM-DD")
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True), default="-",
              help="SVG 输出文件（默认标准输出） / SVG output (default: stdout)")
@rules_option
def graph(jurisdiction, title, matter_file, facts, as_of, output, rules_dir):
    """把辖区的部门关系画成 SVG：向同级党委政府负责、上级主管部门指导、移送、承担职能；可突出显示一个事项的路径。

    Draw a jurisdiction's departments as SVG (pure Python layered layout, no system package), with the
    escalation path, lead and transfers of one matter (--title or --file) highlighted.
    """
    from .graphdraw import draw_svg
    from .publish import jurisdiction_code
    if title and matter_file:
        raise click.UsageError("--title 与 --file 只能用一个。 Give --title or --file, not both.")
    engine = _engine(rules_dir)
    code = jurisdiction_code(engine, jurisdiction)
    resolution = caption = None
    if title or matter_file:
        if matter_file:
            matter = _matter_file(matter_file)
        else:
            matter = {"id": "graph", "title": title, "facts": dict(_fact_pair(f) for f in facts)}
            matter.update({"level": "municipal"} if code == "sh" else {"district": code})
        if as_of and not matter.get("as_of"):
            matter["as_of"] = as_of.date().isoformat()
        resolution = engine.resolve(matter)
        caption = f"事项：{matter.get('title', '')}"
    svg = draw_svg(engine.rulebook.org, code, resolution, caption)
    if output == "-":
        click.echo(svg, nl=False)
    else:
        write_text(output, svg)
        click.echo(f"部门关系图已写入 {output}", err=True)
