"""Across the bundled State Council documents and plans, task departments agree with the markers.

The oracle is deliberately simple and independent of ingest.markers: every full-width parenthesis
(full- or half-width) that closes a sentence group and ends with a responsibility verb is a marker, and the names a task
lists must appear in its marker, in the marker's order.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import CORPUS
from ingest import ingest_file
from ingest.normalize import compact

ORACLE = re.compile(r"(?<=[。；])[（(][^（）()]*(负责|落实|牵头|配合|参与|指导)[^（）()]*[）)](?=$|[^，、；：])", re.MULTILINE)
DOCUMENTS = sorted([*(CORPUS / "state_council").glob("*.txt"), *(CORPUS / "plans").glob("*.txt")])


def oracle_markers(path: Path) -> list[str]:
    return [match.group(0) for match in ORACLE.finditer(path.read_text(encoding="utf-8"))]


WITH_MARKERS = [path for path in DOCUMENTS if oracle_markers(path)]


def test_enough_documents_have_markers():
    assert len(WITH_MARKERS) >= 8


@pytest.mark.parametrize("path", WITH_MARKERS, ids=lambda path: path.stem)
def test_every_marker_becomes_a_task_with_its_departments_in_order(path):
    document = ingest_file(path)
    # the oracle knows parenthesised markers only; in-sentence assignments are tested in test_rules
    tasks = [task for clause in document.clauses for task in clause.tasks if task.kind in ("paren", "labelled")]
    assert [task.marker for task in tasks] == oracle_markers(path)
    for task in tasks:
        assert task.departments, task.marker
        body = compact(task.marker)
        positions = [body.find(compact(item.name)) for item in task.departments]
        assert -1 not in positions, (task.marker, [item.name for item in task.departments])
        assert positions == sorted(positions), task.marker
        leads = [item for item in task.departments if item.role == "lead"]
        explicit = "牵头" in re.sub(r"为牵头(单位|部门)", "", body)
        assert len(leads) >= 1 or "指导" in body or "配合" in body or "参与" in body, task.marker
        if leads and not explicit:  # the first unit not marked 指导/配合 is the presumed or ruled lead
            listed = [item for item in task.departments if item.role != "support"]
            assert listed[0].role == "lead" and len(leads) == 1, task.marker


def test_guofa_2019_3_rule_applies_to_all_later_markers():
    document = ingest_file(CORPUS / "state_council" / "05_国发〔2019〕3号.txt")
    tasks = [task for clause in document.clauses for task in clause.tasks]
    assert len(tasks) == 21
    assert "排在第一位的部门为牵头部门" in tasks[0].marker
    for task in tasks:
        lead, *others = task.departments
        assert lead.role == "lead" and lead.basis == "rule:排在第一位的部门为牵头部门"
        assert all(item.role == "co" for item in others)
    customs = next(task for task in tasks if task.marker == "（海关总署、文化和旅游部、文物局负责）")
    assert [item.canonical for item in customs.departments] == ["海关总署", "文化和旅游部", "国家文物局"]


def test_explicit_lead_and_support_in_wufei_city_plan():
    document = ingest_file(CORPUS / "state_council" / "07_国办发〔2018〕128号.txt")
    first = document.clauses[[c.kind for c in document.clauses].index("item")]
    lead, *support = [task for clause in document.clauses for task in clause.tasks][0].departments
    assert (lead.name, lead.role, lead.basis) == ("生态环境部", "lead", "牵头")
    assert {item.role for item in support} == {"support"}
    later = [clause for clause in document.clauses if clause.inherited]
    assert later and all(item.name == "试点城市政府" for clause in later for item in clause.inherited)
    assert first.kind == "item"


def test_national_plan_departments_are_national_bodies():
    document = ingest_file(CORPUS / "plans" / "国家_减污降碳协同增效实施方案_环综合2022-42号.txt")
    names = {item.canonical for clause in document.clauses for task in clause.tasks for item in task.departments}
    assert {"国家发展和改革委员会", "生态环境部", "住房和城乡建设部", "国家市场监督管理总局"} <= names
    levels = {item.level for clause in document.clauses for task in clause.tasks for item in task.departments
              if item.canonical not in ("各相关部门", "地方")}
    assert levels == {"national"}


def test_hubei_plan_departments_resolve_to_hubei_bodies():
    document = ingest_file(CORPUS / "plans" / "湖北省减污降碳协同增效实施方案_鄂环发2022-33号.txt")
    names = {item.canonical for clause in document.clauses for task in clause.tasks for item in task.departments}
    assert "湖北省发展和改革委员会" in names and "湖北省经济和信息化厅" in names
    assert "湖北省人民政府国有资产监督管理委员会" in names
