"""fixtures/README.md says, row by row, what each fixture matter comes out as; this keeps the table true."""
from __future__ import annotations

import re

from conftest import FIXTURES

ROW = re.compile(r"^\| (fx-\d{3}) \|.*\| (resolved|conflict|unassigned|out_of_scope|invalid)(?:, ([a-z]+\.[a-z_]+))?[^|]*\|\s*$", re.M)
INVALID_ROW = re.compile(r"^\| (fx-\d{3}) \| [^|]*\|\s*$", re.M)  # the two-column table of invalid rows


def test_every_fixture_row_is_in_the_table_with_its_actual_status_and_lead(default_engine, fixture_matters):
    text = (FIXTURES / "README.md").read_text(encoding="utf-8")
    valid, invalid = text.split("### Invalid rows", 1)
    table = {m.group(1): (m.group(2), m.group(3)) for m in ROW.finditer(valid)}
    table.update({m.group(1): ("invalid", None) for m in INVALID_ROW.finditer(invalid)})
    assert set(table) == {m["id"] for m in fixture_matters}
    wrong = []
    for matter in fixture_matters:
        resolution = default_engine.resolve(matter)
        status, lead = table[matter["id"]]
        got_lead = resolution.lead.id if resolution.lead else None
        if resolution.status != status or (lead and lead != got_lead):
            wrong.append((matter["id"], status, lead, resolution.status, got_lead))
    assert wrong == []
