"""Write the README's engine performance table from benchmarks/last-run.json (`python benchmarks/readme_table.py`).

The table sits between `<!-- engine-table -->` and `<!-- /engine-table -->`; everything else in the README is left
alone, so the prose around it says what the figures mean and this script only keeps them in step with the run.
"""
from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
START, END = "<!-- engine-table -->", "<!-- /engine-table -->"


def table(run: dict) -> str:
    seconds, latency, targets = run["seconds"], run["latency"], run["targets"]
    clock, cpu = run["fastest_round"], run["fastest_round_cpu"]
    per_cpu, per_clock = cpu["per_second"], clock["per_second"]
    workers = run["workers_cpu_us_per_row"]
    stages = run["rulebook"]["stages"]
    shape = "; ".join(f"{name} {s['compiled_rules']} compiled rules in {s['rulesets_when_features_allow']}"
                      + (f" ruleset (else {s['rulesets']})" if s["rulesets_when_features_allow"] != s["rulesets"]
                         else " ruleset" + ("s" if s["rulesets"] > 1 else ""))
                      + (f", {s['text_features']} text features" if s["text_features"] else "")
                      for name, s in stages.items())
    rows = [
        ("measurement", "result", "target"),
        ("---", "---", "---"),
        ("one ticket, `engine.resolve`: p50 / p99", f"**{latency['one_ticket']['p50_us']:.1f} µs** / "
         f"{latency['one_ticket']['p99_us']:.0f} µs", f"p50 ≤ {targets['single_p50_us']} µs"),
        ("the 214 fixture matters in turn: p50 / p99", f"{latency['fixture_matters']['p50_us']:.1f} µs / "
         f"{latency['fixture_matters']['p99_us']:.0f} µs", ""),
        (f"{run['batch_size']:,} matters, `engine.resolve_many`, each result consumed as it comes",
         f"**{per_cpu['ecorules_batch']:,.0f} per second** on CPU · {per_clock['ecorules_batch']:,.0f} on the clock",
         f"≥ {targets['batch_per_second']:,}"),
        ("the same, every result kept in a list", f"{per_cpu['ecorules_batch_kept']:,.0f} per second on CPU · "
         f"{per_clock['ecorules_batch_kept']:,.0f} on the clock", ""),
        (f"reference: durable_rules' Python API, one trivial fact, 195 simple rules ({run['reference_facts']:,} facts)",
         f"{per_cpu['reference']:,.0f} per second on CPU · {per_clock['reference']:,.0f} on the clock", ""),
        ("**ecorules / reference** (throughput; in brackets: results kept)", f"**{cpu['ecorules_to_reference']:.2f}** on CPU · "
         f"{clock['ecorules_to_reference']:.2f} on the clock ({cpu['ecorules_kept_to_reference']:.2f} · "
         f"{clock['ecorules_kept_to_reference']:.2f})",
         f"≥ {targets['ecorules_to_reference']} (stretch {targets['ecorules_to_reference_stretch']})"),
        ("the same batch on durable's Host (`matcher=\"reference\"`, the path before issue 14), results kept",
         f"{per_cpu['reference_matcher_batch']:,.0f} per second: direct / Host **{cpu['direct_to_reference_matcher']:.2f}**",
         ""),
        ("`Engine.default()` ready: cache warm / cache off", f"**{seconds['default_ready_cached']['min']:.3f} s** / "
         f"{seconds['default_ready_uncached']['min']:.2f} s", f"< {targets['default_ready_seconds']} s"),
        ("`ecorules check rules`, wall, interpreter start included", f"**{seconds['check_command']['min']:.2f} s**",
         f"< {targets['check_wall_seconds']:.0f} s"),
        (f"`run_batch`, {run['worker_rows']:,} JSONL rows: workers 1 / workers 2",
         f"{per_clock['run_batch_workers_1']:,.0f} / {per_clock['run_batch_workers_2']:,.0f} per second: ratio "
         f"**{clock['workers2_to_workers1']:.2f}**", f"≥ {targets['workers2_to_workers1']}"),
        ("CPU per row in `run_batch`: workers 1 / workers 2 (parent + workers)",
         f"{workers['workers_1']['parent']:.0f} µs / {workers['workers_2']['parent']:.0f} + "
         f"{workers['workers_2']['workers']:.0f} µs", ""),
    ]
    head = (f"Run on {run['date']}, {run['machine']}, shared with other work (load average "
            f"{run['load_average_at_end'][0]:.1f} at the end of the run), the shipped rulebook "
            f"({run['rulebook']['rules']} rules: {shape}):")
    return head + "\n\n" + "\n".join("| " + " | ".join(row) + " |" for row in rows)


def main() -> None:
    run = json.loads((ROOT / "benchmarks" / "last-run.json").read_text(encoding="utf-8"))
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    before, rest = text.split(START, 1)
    _, after = rest.split(END, 1)
    readme.write_text(before + START + "\n" + table(run) + "\n" + END + after, encoding="utf-8")


if __name__ == "__main__":
    main()
