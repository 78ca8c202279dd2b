"""Generate rules/places/gazetteer.yaml from the 2023 statistical division codes.

    python rules/places/make_gazetteer.py [CSV]      (default: fixtures/gazetteer-sh.csv)

Input: code,name,district,district_name — the 234 街道 / 镇 / 乡 and zones (开发区、园区、农场) of Shanghai in
国家统计局《2023年统计用区划代码和城乡划分代码》(cut-off 2023-06-30). Each becomes one `places:` entry with its
code (provenance: source). A 街道 / 镇 / 乡 also gets its short form as an alias (南翔镇 → 南翔; 川沙新镇 → 川沙;
真如镇街道 → 真如镇, 真如) — an inference from usage, marked as such in the entry's basis — except where the
short form is an everyday word or a single character (建设, 新村, 大桥, 庙, 堡 …, listed in SKIP below): those
would read an ordinary title as a place. The colloquial names people use (张江, 虹桥枢纽, 化工区 …), former
districts and words that contain a district name without being one (黄浦江) are hand-written in
rules/places/common-names.yaml. Edit the CSV or SKIP and rerun; never edit gazetteer.yaml by hand.
"""
from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_CSV = HERE.parents[1] / "fixtures" / "gazetteer-sh.csv"   # a copy of shared/reference/gazetteer-sh.csv
OUT = HERE / "gazetteer.yaml"
SOURCE = "国家统计局《2023年统计用区划代码和城乡划分代码》（统计用区划代码截至 2023-06-30）"
KINDS = {"街道": "street", "镇": "town", "乡": "township"}
SUFFIX = re.compile(r"(街道|镇|乡)$")
# short forms that are everyday words, companies, other places' names or one character: not read as a place
SKIP = {
    "唐", "堡", "庙",                                   # one character (唐镇, 堡镇, 庙镇)
    "建设", "新村", "大桥", "万里", "长征", "北站", "长桥", "新桥", "新河", "书院", "白鹤", "海湾",
    "中山", "三星", "中兴", "华新", "东平", "永丰", "石化", "金海", "陈家", "大团", "方松", "浦江", "江湾镇",
    "港沿",                                           # 港沿镇: also "along the creek" (真如港沿河)
    "嘉定", "川沙",                                   # a district's or former county's own name (check: E361)
}


def short_forms(name: str) -> list[str]:
    if name.endswith("新镇"):                # 川沙新镇 → 川沙
        forms = [name[:-2]]
    elif name.endswith("镇街道"):            # 真如镇街道 → 真如镇, 真如
        forms = [name[:-2], name[:-3]]
    elif name.endswith("新村街道"):          # 凉城新村街道 → 凉城新村, 凉城 (people drop 新村)
        forms = [name[:-2], name[:-4]]
    else:
        stripped = SUFFIX.sub("", name)
        forms = [stripped] if stripped != name else []
    return [f for f in forms if len(f) >= 2 and f not in SKIP]


def kind_of(name: str) -> str:
    found = SUFFIX.search(name)
    return KINDS[found.group(1)] if found else "zone"


def render(rows: list[dict]) -> str:
    lines = [
        "# 地名表（一）：上海市街道、镇、乡及开发区、园区、农场 —— 由 rules/places/make_gazetteer.py 生成，请勿手改。",
        "# Generated from fixtures/gazetteer-sh.csv by rules/places/make_gazetteer.py; do not edit by hand.",
        "# 名称与代码：provenance source（统计用区划代码）；简称（aliases）是按用法推断的，basis 中注明。",
        f"source: {SOURCE}",
        "as_of: 2023-06-30",
        "places:",
    ]
    for row in rows:
        name, district = row["name"], row["district"]
        aliases = short_forms(name)
        lines.append(f"  - name: {name}")
        lines.append(f"    district: {district}")
        lines.append(f"    kind: {kind_of(name)}")
        lines.append(f'    code: "{row["code"]}"')
        if aliases:
            lines.append(f"    aliases: [{', '.join(aliases)}]")
        lines.append("    provenance: source")
        basis = f"统计用区划代码 {row['code']}（{row['district_name']}）"
        if aliases:
            basis += "；简称系按用法推断"
        lines.append(f"    basis: {basis}")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    path = Path(argv[1]) if len(argv) > 1 else DEFAULT_CSV
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    OUT.write_text(render(rows), encoding="utf-8")
    print(f"{OUT}: {len(rows)} places", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
