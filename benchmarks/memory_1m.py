"""Peak memory of `ecorules resolve` on 1,000,000 rows, JSONL and CSV: `python benchmarks/memory_1m.py`.

Generates the rows (the fixture matters, cycled, with distinct ids) in a temporary directory, runs the
command line on each file as a subprocess and reports its peak resident set size, read with
`resource.getrusage(RUSAGE_CHILDREN).ru_maxrss` in a fresh wrapper process per run (so one run's peak
never hides another's). Results go to stdout and, as JSON, to benchmarks/last-memory-run.json.

Options: --rows N (default 1,000,000), --workers N (default 1: one process holds everything, so its
peak is the whole run's; with more, ru_maxrss is the largest single process), --keep DIR.
Not a test: it takes a while (≈ rows / throughput) and is run by hand; the README quotes its output.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
LIMIT_MB = 300
FIELDS = ["id", "title", "district", "level", "category", "approved_by", "source", "as_of"]


def fixture_matters() -> list[dict]:
    lines = (ROOT / "fixtures" / "matters.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def generate(directory: Path, rows: int) -> tuple[Path, Path]:
    matters = fixture_matters()
    facts = list(dict.fromkeys(k for m in matters for k in m.get("facts", {})))
    jsonl, table = directory / f"matters-{rows}.jsonl", directory / f"matters-{rows}.csv"
    with open(jsonl, "w", encoding="utf-8") as j, open(table, "w", encoding="utf-8", newline="") as c:
        writer = csv.writer(c, lineterminator="\r\n")
        writer.writerow(FIELDS + facts)
        for i in range(rows):
            matter = {**matters[i % len(matters)], "id": f"m{i:07d}"}
            j.write(json.dumps(matter, ensure_ascii=False) + "\n")
            writer.writerow([_text(matter.get(k)) for k in FIELDS] +
                            [_text(matter.get("facts", {}).get(k)) for k in facts])
    return jsonl, table


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def child(command: list[str]) -> None:
    """Run in a fresh process: run `command`, print its exit code, time and peak RSS as JSON."""
    started = time.monotonic()
    completed = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.monotonic() - started
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # kilobytes on Linux
    print(json.dumps({"exit_code": completed.returncode, "seconds": elapsed, "peak_rss_mb": peak_kb / 1024,
                      "stderr_tail": completed.stderr.decode("utf-8", "replace")[-2000:]}))


def measure(path: Path, output_format: str, workers: int) -> dict:
    command = [sys.executable, "-m", "ecorules", "resolve", str(path), "--format", output_format,
               "--workers", str(workers), "--as-of", "2024-06-01", "--summary", str(path) + ".summary.json"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    wrapper = subprocess.run([sys.executable, __file__, "--child", json.dumps(command)], capture_output=True,
                             env=env, check=True)
    result = json.loads(wrapper.stdout)
    summary = json.loads(Path(str(path) + ".summary.json").read_text(encoding="utf-8"))
    result.update(rows_in=summary["rows"], rows_out=summary["written"], by_status=summary["by_status"],
                  input=path.name, output_format=output_format, workers=workers)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="generate into this directory and keep the files")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(json.loads(args.child))
        return
    with tempfile.TemporaryDirectory() as temporary:
        directory = args.keep or Path(temporary)
        directory.mkdir(parents=True, exist_ok=True)
        jsonl, table = generate(directory, args.rows)
        runs = [measure(jsonl, "jsonl", args.workers), measure(table, "csv", args.workers)]
    report = {"machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.python_implementation()} "
                         f"{platform.python_version()}",
              "rows": args.rows, "limit_mb": LIMIT_MB, "runs": runs}
    (ROOT / "benchmarks" / "last-memory-run.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    for run in runs:
        verdict = "OK" if run["peak_rss_mb"] < LIMIT_MB and run["rows_in"] == run["rows_out"] == args.rows else "FAIL"
        print(f"{run['input']:>24} → {run['output_format']:5}  workers={run['workers']}  "
              f"rows in/out {run['rows_in']:,}/{run['rows_out']:,}  peak RSS {run['peak_rss_mb']:.0f} MB  "
              f"{run['seconds']:.0f} s ({run['rows_out'] / run['seconds']:,.0f} rows/s)  {verdict}")


if __name__ == "__main__":
    main()
