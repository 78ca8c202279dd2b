"""What a rule change does: resolve the same matters under two rulebooks and group what changed by cause.

A matter "changes" when its lead, assist, status or escalation differs. Its cause is every changed rule
(added, removed or amended, by id) that took part in either decision — a rule that fired, lost, was
overridden or was superseded shows in the resolution's basis. A change no rule explains comes from the
org data or the category list (a department's name, a district's `held_by`), and is grouped as such.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Optional

from .engine import Engine
from .io import Row
from .model import Resolution
from .rulebook import Rule, Rulebook

COMPARED = ("lead", "assist", "status", "escalation")
ORG_OR_CATEGORIES = "org"            # the group of changes no rule explains
_NOT_CONTENT = {"file", "line", "order", "condition"}  # moving a rule does not change it; `condition` is `when`, parsed
FIELD_ZH = {"lead": "牵头", "assist": "配合", "status": "状态", "escalation": "上报"}
KIND_ZH = {"added": "新增", "removed": "删除", "changed": "修改"}


@dataclass(frozen=True)
class RuleChange:
    """One rule id whose text differs between the rulebooks (every dated version counts)."""

    kind: str                  # added | removed | changed
    id: str
    old: tuple                 # the versions before (Rule, …); empty when added
    new: tuple                 # the versions after; empty when removed
    keys: tuple = ()           # for `changed`: which keys differ (title, when, lead, priority, effective, …)

    @property
    def where(self) -> str:
        rule = (self.new or self.old)[0]
        return f"{rule.file}:{rule.line}"

    def describe(self) -> str:
        keys = f"：{'、'.join(self.keys)}" if self.keys else ""
        place = self.where if self.new else f"原在 {self.where}"
        return f"{KIND_ZH[self.kind]}规则 {self.id}（{place}）{keys}"


@dataclass(frozen=True)
class MatterChange:
    id: str                    # the matter's id, or "第 N 行" for a row without one
    before: Resolution
    after: Resolution
    fields: tuple              # which of COMPARED changed
    causes: tuple              # changed rule ids, or (ORG_OR_CATEGORIES,)


@dataclass
class DiffReport:
    old: Rulebook
    new: Rulebook
    rule_changes: dict         # id → RuleChange, in rulebook order (old, then new-only)
    org_changed: bool          # the org data or the category list differ
    total: int                 # matters resolved under both
    changes: list              # MatterChange, in input order

    def groups(self) -> list[tuple[tuple, list]]:
        """(causes, matter changes) — largest group first, then by the first cause's id (stable output)."""
        grouped: dict[tuple, list] = {}
        for change in self.changes:
            grouped.setdefault(change.causes, []).append(change)
        return sorted(grouped.items(), key=lambda item: (-len(item[1]), item[0]))

    def field_counts(self) -> Counter:
        return Counter(name for change in self.changes for name in change.fields)

    def to_dict(self) -> dict:
        return {
            "old": _stamp(self.old), "new": _stamp(self.new), "matters": self.total, "changed": len(self.changes),
            "fields": dict(sorted(self.field_counts().items())),
            "rule_changes": [{"kind": c.kind, "id": c.id, "where": c.where, "keys": list(c.keys)}
                             for c in self.rule_changes.values()],
            "org_changed": self.org_changed,
            "groups": [{"causes": list(causes), "count": len(changes),
                        "matters": [_matter_dict(c) for c in changes]} for causes, changes in self.groups()],
        }


# ------------------------------------------------------------------ comparing the rulebooks
def _content(rule: Rule) -> dict:
    return {f.name: getattr(rule, f.name) for f in dataclasses.fields(rule) if f.name not in _NOT_CONTENT}


def rule_changes(old: Rulebook, new: Rulebook) -> dict:
    """id → RuleChange for every rule id added, removed, or whose content (any version) differs."""
    found = {}
    for rule_id in dict.fromkeys([*old.versions, *new.versions]):
        before, after = old.versions.get(rule_id, ()), new.versions.get(rule_id, ())
        if not before:
            found[rule_id] = RuleChange("added", rule_id, before, after)
        elif not after:
            found[rule_id] = RuleChange("removed", rule_id, before, after)
        elif [_content(r) for r in before] != [_content(r) for r in after]:
            found[rule_id] = RuleChange("changed", rule_id, before, after, _changed_keys(before, after))
    return found


def _changed_keys(before: tuple, after: tuple) -> tuple:
    if len(before) != len(after):
        return ("effective",)  # a version added or dropped
    keys = {}
    for old, new in zip(before, after):
        a, b = _content(old), _content(new)
        keys.update(dict.fromkeys(k for k in a if a[k] != b[k]))
    return tuple(_KEY_NAMES.get(k, k) for k in keys)


# Rule's field names back to the words legal staff wrote in the rule file
_KEY_NAMES = {"effective_from": "effective", "effective_until": "effective", "transfers": "transfer",
              "obligations": "obligation"}


def _org_changed(old: Rulebook, new: Rulebook) -> bool:
    return (old.org.roles != new.org.roles or old.org.districts != new.org.districts
            or old.categories != new.categories)


# ------------------------------------------------------------------ comparing the decisions
def outcome(resolution: Resolution) -> dict:
    """The compared part of a decision, as plain values."""
    escalation = resolution.escalation
    return {
        "lead": resolution.lead.id if resolution.lead else None,
        "assist": [d.id for d in resolution.assist],
        "status": resolution.status,
        "escalation": ({"to": [d.id for d in escalation.to],
                        "proposer": escalation.proposer.id if escalation.proposer else None}
                       if escalation else None),
    }


def diff_rulebooks(old: Rulebook, new: Rulebook, rows: Iterable[Row], today: Optional[dt.date] = None) -> DiffReport:
    """Resolve every row under both rulebooks (same `today` for rows without a date) and compare."""
    day = today or dt.date.today()
    changes_by_rule = rule_changes(old, new)
    report = DiffReport(old, new, changes_by_rule, _org_changed(old, new), 0, [])
    with Engine(old, today=lambda: day) as before_engine, Engine(new, today=lambda: day) as after_engine:
        for row in rows:
            before, after = _resolve(before_engine, row), _resolve(after_engine, row)
            report.total += 1
            a, b = outcome(before), outcome(after)
            fields = tuple(name for name in COMPARED if a[name] != b[name])
            if fields:
                label = row.id or f"第 {row.number} 行"
                report.changes.append(MatterChange(label, before, after, fields, _causes(before, after, changes_by_rule)))
    return report


def _resolve(engine: Engine, row: Row) -> Resolution:
    return engine.resolve(row.matter) if row.matter is not None else engine.invalid(row.id, row.error or "无法读取")


def _causes(before: Resolution, after: Resolution, changed: dict) -> tuple:
    took_part = dict.fromkeys(b.rule for b in [*before.basis, *after.basis])
    causes = tuple(sorted(rule_id for rule_id in took_part if rule_id in changed))
    return causes or (ORG_OR_CATEGORIES,)


# ------------------------------------------------------------------ rendering
def _stamp(rulebook: Rulebook) -> dict:
    return {"root": rulebook.root, "name": rulebook.name, "version": rulebook.version, "hash": rulebook.hash[:12],
            "rules": len(rulebook.rules)}


def _matter_dict(change: MatterChange) -> dict:
    before, after = outcome(change.before), outcome(change.after)
    return {"id": change.id, "changed": list(change.fields),
            "before": {k: before[k] for k in change.fields}, "after": {k: after[k] for k in change.fields}}


def _show(field: str, resolution: Resolution) -> str:
    if field == "lead":
        return resolution.lead.short_name if resolution.lead else "无"
    if field == "assist":
        return "、".join(d.short_name for d in resolution.assist) or "无"
    if field == "status":
        return resolution.status
    escalation = resolution.escalation
    return "、".join(d.short_name for d in escalation.to) if escalation else "无"


def report_lines(report: DiffReport) -> list[str]:
    """The report in Chinese, for a reviewer deciding whether to adopt the change."""
    lines = [f"旧规则库 {report.old.root}（{len(report.old.rules)} 条规则）→ "
             f"新规则库 {report.new.root}（{len(report.new.rules)} 条规则）"]
    kinds = Counter(c.kind for c in report.rule_changes.values())
    summary = "，".join(f"{KIND_ZH[k]} {kinds[k]}" for k in KIND_ZH if kinds[k])
    lines.append(f"规则变化：{len(report.rule_changes)} 条" + (f"（{summary}）" if summary else ""))
    lines += [f"  {change.describe()}" for change in report.rule_changes.values()]
    if report.org_changed:
        lines.append("  组织数据或事项类别表也有变化")
    counts = report.field_counts()
    detail = "，".join(f"{FIELD_ZH[k]} {counts[k]}" for k in COMPARED if counts[k])
    lines.append(f"事项：共 {report.total} 件，结果变化 {len(report.changes)} 件" + (f"（{detail}）" if detail else ""))
    for causes, changes in report.groups():
        lines.append("")
        lines.append(f"【{_cause_title(causes, report)}】{len(changes)} 件")
        for change in changes:
            parts = [f"{FIELD_ZH[f]} {_show(f, change.before)} → {_show(f, change.after)}" for f in change.fields]
            lines.append(f"  {change.id}：" + "；".join(parts))
    return lines


def _cause_title(causes: tuple, report: DiffReport) -> str:
    if causes == (ORG_OR_CATEGORIES,):
        return "组织数据或事项类别表的变化（没有变化的规则参与）"
    return "；".join(f"{KIND_ZH[report.rule_changes[c].kind]} {c}" for c in causes)
