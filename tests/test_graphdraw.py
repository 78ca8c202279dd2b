"""The department picture: the graph's own edges, a layered layout, the matter's path highlighted, same bytes."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner

from ecorules.cli import main
from ecorules.graphdraw import EDGE_TYPES, draw_svg, layout, select

SVG = "{http://www.w3.org/2000/svg}"
SIGNIFICANT = {"id": "m", "title": "楼道里有人堆放杂物", "district": "黄浦区", "facts": {"significant_impact": True},
               "as_of": "2025-06-01"}


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def nodes(root) -> dict:
    return {g.get("data-node"): g.get("class").split() for g in root.iter(f"{SVG}g") if g.get("data-node")}


def edges(root) -> list:
    return [(p.get("data-from"), p.get("data-to"), p.get("class").split()) for p in root.iter(f"{SVG}path")
            if p.get("data-from")]


@pytest.mark.parametrize("jurisdiction", ["huangpu", "sh", "pudong"])
def test_every_body_and_edge_of_the_jurisdiction_is_drawn(default_engine, jurisdiction):
    org = default_engine.rulebook.org
    root = parse(draw_svg(org, jurisdiction))
    drawn = nodes(root)
    own = {n for n, d in org.graph.nodes(data=True) if d["jurisdiction"] == jurisdiction}
    assert own <= set(drawn)
    assert all(n.startswith("sh.") for n in set(drawn) - own)   # the others are municipal counterparts
    expected = {(u, v, t) for u, v, t in org.graph.edges(data="type") if t in EDGE_TYPES and u in drawn and v in drawn
                and (u in own or v in own)}
    assert {(u, v, c[1]) for u, v, c in edges(root)} == expected
    kinds = {c[1] for *_, c in edges(root)}
    assert kinds == (set(EDGE_TYPES) if jurisdiction != "sh" else set(EDGE_TYPES) - {"guides", "holds_function_of"})


def test_municipal_picture_holds_no_district_body(default_engine):
    _, others, _ = select(default_engine.rulebook.org, "sh")
    assert others == []


def test_layers_follow_the_reporting_hierarchy(default_engine):
    picture = layout(default_engine.rulebook.org, "huangpu")
    x = {n: p.x for n, p in picture.nodes.items()}
    assert x["sh.party"] < x["huangpu.party"] < x["huangpu.gov"] < x["huangpu.sthj"] < x["sh.sthj"]
    ys = [picture.nodes[n].y for n in picture.columns[-2]]
    assert ys == sorted(ys) and len(set(ys)) == len(ys)      # no two bodies of a column overlap
    assert picture.nodes["sh.sthj"].y == picture.nodes["huangpu.sthj"].y   # a counterpart beside the body it guides


def test_a_matter_path_is_highlighted(default_engine):
    resolution = default_engine.resolve(SIGNIFICANT)
    assert resolution.escalation is not None
    root = parse(draw_svg(default_engine.rulebook.org, "huangpu", resolution, "事项"))
    highlighted = {n for n, classes in nodes(root).items() if "hl" in classes}
    assert {d.id for d in resolution.escalation.to} <= highlighted
    assert "__matter__" in highlighted   # the hops start at the matter itself
    assert {(h.source or "__matter__", h.target) for h in resolution.escalation.path} <= \
        {(u, v) for u, v, c in edges(root) if "hl" in c}
    plain = parse(draw_svg(default_engine.rulebook.org, "huangpu"))
    assert not any("hl" in c for c in nodes(plain).values())


def test_lead_and_transfers_are_marked(default_engine):
    r = default_engine.resolve({"id": "m", "title": "工地扬尘", "district": "黄浦区", "category": "construction_dust",
                                "facts": {"suspected_crime": True}, "as_of": "2025-06-01"})
    root = parse(draw_svg(default_engine.rulebook.org, "huangpu", r))
    classes = nodes(root)
    assert "lead" in classes[r.lead.id]
    assert r.transfers and all("hl" in classes[t.to.id] for t in r.transfers)
    assert (r.lead.id, r.transfers[0].to.id) in {(u, v) for u, v, c in edges(root) if "hl" in c}


def test_same_input_same_bytes(default_engine):
    org = default_engine.rulebook.org
    r = default_engine.resolve(SIGNIFICANT)
    assert draw_svg(org, "huangpu", r, "x") == draw_svg(org, "huangpu", r, "x")


def test_graph_command_writes_the_same_picture(default_engine, tmp_path):
    out = tmp_path / "p.svg"
    result = CliRunner().invoke(main, ["graph", "--jurisdiction", "黄浦区", "--title", SIGNIFICANT["title"],
                                       "--fact", "significant_impact=true", "--as-of", "2025-06-01", "-o", str(out)])
    assert result.exit_code == 0, result.output
    expected = draw_svg(default_engine.rulebook.org, "huangpu", default_engine.resolve(
        {"id": "graph", "title": SIGNIFICANT["title"], "district": "huangpu", "facts": {"significant_impact": True},
         "as_of": "2025-06-01"}), f"事项：{SIGNIFICANT['title']}")
    assert out.read_text(encoding="utf-8") == expected
    matter = tmp_path / "m.json"
    matter.write_text('{"id": "m", "title": "楼道里有人堆放杂物", "district": "黄浦区", '
                      '"facts": {"significant_impact": true}, "as_of": "2025-06-01"}', encoding="utf-8")
    from_file = CliRunner().invoke(main, ["graph", "--jurisdiction", "huangpu", "--file", str(matter)])
    assert from_file.exit_code == 0 and 'class="node hl' in from_file.stdout


@pytest.mark.parametrize("args", [["graph"], ["graph", "--jurisdiction", "火星区"],
                                  ["graph", "--jurisdiction", "sh", "--title", "x", "--file", "m.json"]])
def test_graph_usage_errors_exit_1(args):
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1 and "Traceback" not in result.output


def test_same_bytes_across_processes_whatever_the_hash_seed(tmp_path):
    """Set and dict order inside networkx depend on string hashing; the picture must not."""
    import os
    import subprocess
    import sys
    outputs = []
    for seed in ("1", "4242"):
        target = tmp_path / f"p{seed}.svg"
        subprocess.run([sys.executable, "-m", "ecorules", "graph", "--jurisdiction", "pudong", "--title",
                        SIGNIFICANT["title"], "--fact", "significant_impact=true", "--as-of", "2025-06-01",
                        "-o", str(target)], check=True, capture_output=True, env={**os.environ, "PYTHONHASHSEED": seed})
        outputs.append(target.read_bytes())
    assert outputs[0] == outputs[1]
