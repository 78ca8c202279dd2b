"""A jurisdiction's departments as an SVG picture — pure Python: a layered layout computed with networkx, and a
small SVG writer of our own (no graphviz, no system package, no JavaScript).

Layout (Sugiyama-style, simplified):
  1. the bodies of the jurisdiction, plus — for a district — the municipal bodies its bodies touch (the city's
     党委 / 政府 they report to, the municipal departments that guide them, the municipal function a district body
     holds);
  2. columns from the reporting hierarchy: `networkx.topological_generations` over the reversed `reports_to`
     edges, so 市委 is left, then 市政府 and the district's 区委, then 区政府, then the departments; bodies with no
     reporting edge stand with the departments; the municipal counterparts form a last column on the right;
  3. order within a column by kind and by the org data's role order; each counterpart at the height of the
     district body it guides or that holds its function (barycentre), pushed down when that place is taken;
  4. edges: straight arrows between columns, arcs on the left for edges inside a column (移送 to 公安 / 检察院).

`draw_svg` highlights a resolution: the escalation path (its hops; a hop from the matter itself starts at a small
"事项" marker), the escalation targets and proposer, the lead and the transfers. The output is deterministic:
nodes, edges and attributes are written in sorted order with integer coordinates, so the same input gives the
same bytes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional
from xml.sax.saxutils import escape, quoteattr

import networkx as nx

from .model import Resolution
from .orggraph import MUNICIPAL, OrgGraph

EDGE_TYPES = ("reports_to", "guides", "transfers_to", "holds_function_of")
# colour, dash pattern, legend (Chinese first)
EDGE_STYLE = {
    "reports_to": ("#4a5568", "", "向同级党委政府负责 reports to"),
    "guides": ("#2b6cb0", "6 4", "上级主管部门指导 guides"),
    "transfers_to": ("#b7791f", "2 3", "移送（行刑衔接） transfers to"),
    "holds_function_of": ("#2f855a", "9 3 2 3", "承担该职能 holds the function of"),
}
HIGHLIGHT = "#c53030"
_KIND_ORDER = ("party_committee", "government", "coordination_body", "functional_department", "platform",
               "sub_district", "police", "procuratorate", "court", "audit", "discipline_inspection", "central_agency")
NODE_W, NODE_H, ROW, COL_GAP, MARGIN, TOP = 176, 28, 38, 250, 24, 92
MATTER = "__matter__"


@dataclass(frozen=True)
class Placed:
    node: str
    x: int          # left edge
    y: int          # top edge
    label: str
    title: str      # full name and id (the tooltip)
    own: bool       # a body of the jurisdiction drawn (False: a municipal counterpart of a district picture)
    inferred: bool


@dataclass
class Picture:
    """Where everything goes: placed nodes and the edges between them (u, v, type), both sorted."""

    jurisdiction: str
    nodes: dict[str, Placed]
    edges: list[tuple[str, str, str]]
    width: int
    height: int
    columns: list[list[str]] = field(default_factory=list)


def jurisdiction_name(org: OrgGraph, jurisdiction: str) -> str:
    return "上海市（市级）" if jurisdiction == MUNICIPAL else org.districts[jurisdiction].name


def _role_rank(org: OrgGraph, node: str) -> tuple:
    data = org.node(node)
    kind = _KIND_ORDER.index(data["kind"]) if data["kind"] in _KIND_ORDER else len(_KIND_ORDER)
    roles = list(org.roles)
    return (kind, roles.index(data["role"]) if data["role"] in roles else len(roles), node)


def select(org: OrgGraph, jurisdiction: str) -> tuple[list[str], list[str], list[tuple[str, str, str]]]:
    """(own bodies, municipal counterparts, edges) of a jurisdiction's picture, each sorted."""
    g = org.graph
    own = sorted(n for n, d in g.nodes(data=True) if d["jurisdiction"] == jurisdiction)
    own_set = set(own)
    edges = set()
    others = set()
    for u, v, kind in g.edges(data="type"):
        if kind not in EDGE_TYPES or not (u in own_set or v in own_set):
            continue
        other = v if u in own_set else u
        if other not in own_set:
            # only a district picture shows others: the municipal bodies its own bodies touch (a municipal picture
            # would otherwise hold every district's 区委 / 区政府 and function holders)
            if jurisdiction == MUNICIPAL or g.nodes[other]["jurisdiction"] != MUNICIPAL:
                continue
            others.add(other)
        edges.add((u, v, kind))
    return own, sorted(others), sorted(edges)


def layout(org: OrgGraph, jurisdiction: str) -> Picture:
    own, others, edges = select(org, jurisdiction)
    reporting = nx.DiGraph()
    reporting.add_edges_from((u, v) for u, v, kind in edges if kind == "reports_to")
    leaders = [n for n in own + others if n in reporting and reporting.in_degree(n) > 0]  # someone reports to them
    columns: list[list[str]] = []
    placed_in: dict[str, int] = {}
    for generation in nx.topological_generations(reporting.reverse(copy=False)):
        column = sorted((n for n in generation if n in leaders), key=lambda n: _role_rank(org, n))
        if column:
            placed_in.update((n, len(columns)) for n in column)
            columns.append(column)
    departments = sorted((n for n in own if n not in placed_in), key=lambda n: _role_rank(org, n))
    columns.append(departments)
    counterparts = [n for n in others if n not in placed_in]
    height = max(len(c) for c in columns) * ROW
    nodes: dict[str, Placed] = {}

    def place(node: str, col: int, y: int):
        data = org.node(node)
        nodes[node] = Placed(node, MARGIN + col * COL_GAP, y, data["short_name"],
                             f"{data['name']}（{node}）" + ("，名称或设置为推定" if data["inferred"] else ""),
                             data["jurisdiction"] == jurisdiction, bool(data["inferred"]))

    for col, column in enumerate(columns):
        start = TOP + (height - len(column) * ROW) // 2 if col < len(columns) - 1 else TOP
        for i, node in enumerate(column):
            place(node, col, start + i * ROW)
    if counterparts:
        linked = {}
        for u, v, _ in edges:
            for a, b in ((u, v), (v, u)):
                if a in counterparts and b in nodes:
                    linked.setdefault(a, []).append(nodes[b].y)
        wanted = sorted(counterparts, key=lambda n: (min(linked.get(n, [TOP])), _role_rank(org, n)))
        next_free = TOP
        for node in wanted:
            y = max(min(linked.get(node, [TOP])), next_free)
            place(node, len(columns), y)
            next_free = y + ROW
        columns.append(wanted)
    bottom = max(p.y for p in nodes.values()) + NODE_H + MARGIN + 8
    width = MARGIN * 2 + (len(columns) - 1) * COL_GAP + NODE_W
    return Picture(jurisdiction, nodes, edges, width, bottom, columns)


@dataclass(frozen=True)
class Highlight:
    """What of a resolution the picture emphasises."""

    nodes: frozenset = frozenset()          # escalation targets, proposer, hop ends, transfer targets
    edges: frozenset = frozenset()          # (u, v) pairs; u may be MATTER
    lead: Optional[str] = None
    caption: str = ""


def highlight_of(resolution: Optional[Resolution]) -> Highlight:
    if resolution is None:
        return Highlight()
    nodes, edges = set(), set()
    lead = resolution.lead.id if resolution.lead else None
    escalation = resolution.escalation
    if escalation:
        for hop in escalation.path:
            edges.add((hop.source or MATTER, hop.target))
            nodes.add(hop.target)
            if hop.source:
                nodes.add(hop.source)
        nodes.update(d.id for d in escalation.to)
        if escalation.proposer:
            nodes.add(escalation.proposer.id)
    for transfer in resolution.transfers:
        nodes.add(transfer.to.id)
        if lead:
            edges.add((lead, transfer.to.id))
    return Highlight(frozenset(nodes), frozenset(edges), lead)


def draw_svg(org: OrgGraph, jurisdiction: str, resolution: Optional[Resolution] = None,
             caption: Optional[str] = None) -> str:
    """The SVG text of a jurisdiction's departments, with `resolution`'s path highlighted (if given)."""
    picture = layout(org, jurisdiction)
    mark = highlight_of(resolution)
    name = jurisdiction_name(org, jurisdiction)
    legend, legend_end = _legend(bool(mark.nodes or mark.lead))
    picture.width = max(picture.width, legend_end + MARGIN)
    heading = f"{name} 部门关系图 / departments of {jurisdiction}"
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{picture.width}" height="{picture.height}" '
           f'viewBox="0 0 {picture.width} {picture.height}" role="img" aria-labelledby="svg-title svg-desc" '
           f'font-family="Noto Sans CJK SC, Source Han Sans SC, WenQuanYi Micro Hei, Microsoft YaHei, sans-serif" '
           f'font-size="13" data-jurisdiction={quoteattr(jurisdiction)}>',
           f'<title id="svg-title">{escape(heading)}</title>',
           f'<desc id="svg-desc">{escape(_description(picture, mark, caption))}</desc>',
           "<defs>"]
    for kind in EDGE_TYPES:
        out.append(_marker(f"arrow-{kind}", EDGE_STYLE[kind][0]))
    out.append(_marker("arrow-hl", HIGHLIGHT))
    out.append("</defs>")
    out.append(f'<rect width="{picture.width}" height="{picture.height}" fill="#ffffff"/>')
    out.append(f'<text x="{MARGIN}" y="26" font-size="17" font-weight="bold">{escape(heading)}</text>')
    if caption:
        out.append(f'<text x="{MARGIN}" y="46" fill="{HIGHLIGHT}">{escape(caption)}</text>')
    out.extend(legend)
    out.append('<g class="edges" fill="none">')
    drawn = set()
    for u, v, kind in picture.edges:
        hl = (u, v) in mark.edges
        drawn.add((u, v))
        out.append(_edge(picture, u, v, kind, hl))
    for u, v in sorted(mark.edges - drawn):   # a hop that is no drawn edge (from the matter itself)
        if (u in picture.nodes or u == MATTER) and v in picture.nodes:
            out.append(_edge(picture, u, v, "in_jurisdiction", True))
    out.append("</g>")
    out.append('<g class="nodes">')
    if any(u == MATTER for u, _ in mark.edges):
        out.append(_matter_marker())
    for node in sorted(picture.nodes):
        out.append(_node(picture.nodes[node], node in mark.nodes, node == mark.lead))
    out.append("</g></svg>")
    return "\n".join(out) + "\n"


def _description(picture: Picture, mark: Highlight, caption: Optional[str]) -> str:
    counts = {kind: sum(1 for *_, k in picture.edges if k == kind) for kind in EDGE_TYPES}
    text = (f"{len(picture.nodes)} 个机构；" + "，".join(f"{EDGE_STYLE[k][2].split(' ')[0]} {counts[k]} 条" for k in EDGE_TYPES)
            + "。")
    if caption:
        text += caption.rstrip("。") + "。"
    if mark.nodes:
        text += "突出显示：" + "、".join(sorted(n for n in mark.nodes if n in picture.nodes)) + "。"
    return text


def _marker(marker_id: str, colour: str) -> str:
    return (f'<marker id="{marker_id}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
            f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>')


def _legend(highlighted: bool) -> tuple[list[str], int]:
    """The legend's SVG lines and where it ends on the right."""
    out, x, y = ['<g class="legend" font-size="12">'], MARGIN, 70
    for kind in EDGE_TYPES:
        colour, dash, label = EDGE_STYLE[kind]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(f'<line x1="{x}" y1="{y - 4}" x2="{x + 28}" y2="{y - 4}" stroke="{colour}" stroke-width="2"'
                   f'{dash_attr} marker-end="url(#arrow-{kind})"/>')
        out.append(f'<text x="{x + 34}" y="{y}">{escape(label)}</text>')
        x += 34 + text_width(label, 12) + 28
    if highlighted:
        out.append(f'<line x1="{x}" y1="{y - 4}" x2="{x + 28}" y2="{y - 4}" stroke="{HIGHLIGHT}" stroke-width="3"/>')
        label = "所选事项的路径 path of the matter"
        out.append(f'<text x="{x + 34}" y="{y}" fill="{HIGHLIGHT}">{label}</text>')
        x += 34 + text_width(label, 12)
    out.append("</g>")
    return out, x


def text_width(text: str, size: int = 13) -> int:
    """Estimated width in pixels: a CJK character is about one em, a Latin one a little over half."""
    return sum(size if ord(ch) > 0x2E80 else (size * 6) // 10 for ch in text)


def _anchor(picture: Picture, node: str) -> tuple[int, int, int]:
    """(left x, right x, middle y) of a node (the matter marker is drawn above the first column)."""
    if node == MATTER:
        return MARGIN, MARGIN + 60, TOP - 4
    p = picture.nodes[node]
    return p.x, p.x + NODE_W, p.y + NODE_H // 2


def _edge(picture: Picture, u: str, v: str, kind: str, hl: bool) -> str:
    ul, ur, uy = _anchor(picture, u)
    vl, vr, vy = _anchor(picture, v)
    if ul == vl:   # same column: an arc on the left
        bulge = 18 + abs(vy - uy) // 5
        d = f"M{ul},{uy} C{ul - bulge},{uy} {vl - bulge},{vy} {vl},{vy}"
    elif ul > vl:
        d = f"M{ul},{uy} L{vr},{vy}"
    else:
        d = f"M{ur},{uy} L{vl},{vy}"
    colour, dash, _ = EDGE_STYLE.get(kind, (HIGHLIGHT, "", ""))
    if hl:
        attrs = f'stroke="{HIGHLIGHT}" stroke-width="3" marker-end="url(#arrow-hl)"'
    else:
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        attrs = f'stroke="{colour}" stroke-width="1.2" stroke-opacity="0.45"{dash_attr} marker-end="url(#arrow-{kind})"'
    css = f"edge {kind}" + (" hl" if hl else "")
    return f'<path class="{css}" data-from={quoteattr(u)} data-to={quoteattr(v)} d="{d}" {attrs}/>'


def _matter_marker() -> str:
    return (f'<g class="node matter hl" data-node="{MATTER}"><rect x="{MARGIN}" y="{TOP - 16}" width="60" height="24" '
            f'rx="12" fill="{HIGHLIGHT}"/><text x="{MARGIN + 30}" y="{TOP + 1}" text-anchor="middle" fill="#ffffff">'
            f'事项</text></g>')


def _node(p: Placed, hl: bool, lead: bool) -> str:
    fill = "#fff5f5" if hl else ("#fefcbf" if lead else ("#edf2f7" if p.own else "#f7fafc"))
    stroke = HIGHLIGHT if hl else ("#975a16" if lead else ("#2d3748" if p.own else "#a0aec0"))
    width = 3 if hl or lead else 1
    dash = ' stroke-dasharray="4 3"' if p.inferred else ""
    classes = "node" + (" hl" if hl else "") + (" lead" if lead else "") + ("" if p.own else " counterpart")
    label = p.label + ("（推定）" if p.inferred else "")
    return (f'<g class="{classes}" data-node={quoteattr(p.node)}><title>{escape(p.title)}</title>'
            f'<rect x="{p.x}" y="{p.y}" width="{NODE_W}" height="{NODE_H}" rx="5" fill="{fill}" stroke="{stroke}" '
            f'stroke-width="{width}"{dash}/><text x="{p.x + NODE_W // 2}" y="{p.y + 19}" text-anchor="middle">'
            f'{escape(label)}</text></g>')


__all__ = ["EDGE_STYLE", "EDGE_TYPES", "Highlight", "Picture", "Placed", "draw_svg", "highlight_of",
           "jurisdiction_name", "layout", "select", "text_width"]
