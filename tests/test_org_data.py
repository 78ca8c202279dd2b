"""The Shanghai org data says what was verified and marks the rest as an inference (rules/org/shanghai.yaml).

These tests pin the verification of 2026-12 (sources are in each `basis`): which districts have their own
区交通委, the names that differ from the templates, the 街镇 node of districts without towns, and the
centralised environmental-resources courts. A change to any of these should be a deliberate data change.
"""
from __future__ import annotations

import pytest

from ecorules.rulebook import load_rulebook

from conftest import RULES

OWN_TRANSPORT = {"minhang", "baoshan", "jiading", "jinshan", "songjiang", "chongming"}
# held by the construction commission: verified for 浦东, 青浦, 奉贤; inference for the 7 central districts
TRANSPORT_HELD = {"pudong", "qingpu", "fengxian", "huangpu", "xuhui", "changning", "jingan", "putuo", "hongkou",
                  "yangpu"}
ONLY_STREETS = {"huangpu": "黄浦区街道办事处", "hongkou": "虹口区街道办事处", "yangpu": "杨浦区街道办事处"}
OWN_ENV_COURT = {"jinshan": "上海市金山区人民法院", "qingpu": "上海市青浦区人民法院", "chongming": "上海市崇明区人民法院"}


@pytest.fixture(scope="module")
def org():
    return load_rulebook(RULES).org


def _dept(org, role, district):
    return org.department(org.resolve(role, district))


def test_every_district_is_classified_for_transport(org):
    assert OWN_TRANSPORT | TRANSPORT_HELD == set(org.districts)
    assert not OWN_TRANSPORT & TRANSPORT_HELD
    for code in OWN_TRANSPORT:
        assert org.resolve("jtw", code) == f"{code}.jtw"
        assert "jtw" not in org.districts[code].held_by
    for code in TRANSPORT_HELD:
        assert org.resolve("jtw", code) == f"{code}.zjw"


def test_pudong_names_verified(org):
    zjw, jxw = _dept(org, "zjw", "pudong"), _dept(org, "jxw", "pudong")
    assert (zjw.name, zjw.inferred) == ("上海市浦东新区建设和交通委员会", False)
    assert (jxw.name, jxw.inferred) == ("上海市浦东新区科技和经济委员会", False)
    assert org.resolve("jtw", "pudong") == "pudong.zjw"


def test_full_names_seen_are_source_short_forms_only_are_inference(org):
    assert not _dept(org, "jtw", "jiading").inferred and _dept(org, "jtw", "jiading").name == "上海市嘉定区交通委员会"
    assert not _dept(org, "jtw", "minhang").inferred
    assert not _dept(org, "zjw", "qingpu").inferred
    for code in ("baoshan", "jinshan", "songjiang", "chongming"):
        assert _dept(org, "jtw", code).inferred, code
    # an unverified template name is an inference wherever no district entry verifies it
    assert _dept(org, "jxw", "huangpu").inferred
    assert _dept(org, "zjw", "huangpu").inferred
    assert not _dept(org, "sthj", "huangpu").inferred
    assert not _dept(org, "gov", "huangpu").inferred


def test_districts_without_towns_name_only_streets(org):
    for code in org.districts:
        node = _dept(org, "jiezhen", code)
        if code in ONLY_STREETS:
            assert node.name == ONLY_STREETS[code]
            assert "乡镇" not in node.name and not node.inferred
        elif code == "chongming":
            assert node.name == "崇明区乡镇人民政府"  # 镇 and 乡 only, no 街道
        else:
            assert node.name.endswith("街道办事处、乡镇人民政府")


def test_environmental_court_follows_centralised_jurisdiction(org):
    for code in org.districts:
        court = _dept(org, "court", code)
        if code in OWN_ENV_COURT:
            assert (court.name, court.inferred) == (OWN_ENV_COURT[code], False)
        else:
            assert court.name == "上海铁路运输法院"
            assert court.inferred  # the district-to-court mapping rests on one reprint


def test_every_district_name_override_says_how_sure_it_is(org):
    for code, district in org.districts.items():
        for role, names in district.names.items():
            assert names.confidence in ("source", "inference"), (code, role)
            assert names.basis, (code, role)
            if names.confidence == "source":
                assert "http" in names.basis or "gazetteer" in names.basis, (code, role)
    for role, spec in org.roles.items():
        if spec.district not in ("none", "shared"):
            assert spec.district.confidence in ("source", "inference"), role
            assert spec.district.name_en, role
