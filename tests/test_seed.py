"""The founding document: 《武汉市减污降碳协同增效实施方案》 in Traditional script, as received."""

from __future__ import annotations

import re

from conftest import SEED
from ingest import ingest_file
from ingest.normalize import chinese_number, compact, to_simplified

MEASURE_LINE = re.compile(r"^\((?P<number>[一二三四五六七八九十]+)\)")


def marker_oracle() -> dict[int, list[str]]:
    """Department lists read off the seed with one document-specific regex: the last (…) of each measure."""
    result = {}
    for line in SEED.read_text(encoding="utf-8").splitlines():
        if not (match := MEASURE_LINE.match(line)) or not line.endswith(")"):
            continue
        marker = line[line.rindex("(", 0, line.rindex("〈") if "〈" in line else len(line)) + 1:-1]
        marker = re.sub(r",以下均需.*$", "", marker)
        marker = re.sub(r"(等)?(負責)?按職責分工落實$", "", marker)
        result[chinese_number(match["number"])] = marker.split("、")
    return result


def measures(document):
    return [clause for clause in document.clauses if clause.kind == "item"]


def test_seed_has_26_measures_under_7_sections(seed):
    sections = [clause for clause in seed.clauses if clause.kind == "section"]
    assert [compact(clause.number) for clause in sections] == [f"{n}、" for n in "一二三四五六七"]
    items = measures(seed)
    assert [chinese_number(compact(clause.number).strip("()")) for clause in items] == list(range(1, 27))
    assert all(clause.path[0].startswith("s") and len(clause.path) == 2 for clause in items)
    assert compact(items[11].number) == "(十二)" and items[11].heading_path == ("四、聚焦重點任務協同控制",)
    assert items[11].id == "武汉市减污降碳协同增效实施方案.s4.p12"


def test_departments_of_measures_1_to_23_are_their_markers_in_order_first_lead(seed):
    oracle = marker_oracle()
    assert sorted(oracle) == list(range(1, 24))
    for clause in measures(seed)[:23]:
        number = chinese_number(compact(clause.number).strip("()"))
        (task,) = clause.tasks
        assert [item.name for item in task.departments] == oracle[number], clause.number
        assert [item.role for item in task.departments] == ["lead"] + ["co"] * (len(oracle[number]) - 1)
        assert task.departments[0].basis == "first-listed"


def test_district_governments_are_inherited_from_measure_1_on(seed):
    for clause in measures(seed):
        (inherited,) = clause.inherited
        assert inherited.name == "各區人民政府" and inherited.role == "inherited"
        assert inherited.includes == ("開發區", "長江新區", "風景區管委會")
        assert clause.departments[-1] == inherited
    assert all(not clause.inherited for clause in seed.clauses if clause.kind != "item")


def test_keyword_noise_and_news_lead_are_not_in_any_clause(seed):
    for clause in seed.clauses:
        assert "關鍵詞" not in clause.text and "污水處理外包" not in clause.text
        assert "《方案》提出" not in clause.text


def test_front_matter_is_recognised(seed):
    assert seed.title == "武漢市減污降碳協同增效實施方案"
    assert seed.id == "武汉市减污降碳协同增效实施方案"
    assert seed.date == "2023-05-11" and seed.level == "municipal" and seed.script == "traditional"
    assert seed.addressees == "各區人民政府,各有關單位"
    assert seed.issuers[1] == "武漢市發展和改革委員會"
    signature = next(clause for clause in seed.clauses if clause.kind == "signature")
    assert "2023年5月11日" in signature.text
    assert all("2023年5月11日" not in clause.text for clause in measures(seed))


def test_aliases_learned_from_signature_block(seed):
    aliases = dict(seed.aliases)
    assert aliases["市发改委"] == "武汉市发展和改革委员会"
    assert aliases["市经信局"] == "武汉市经济和信息化局"
    first = measures(seed)[0].tasks[0].departments
    canonical = {item.name: item.canonical for item in first}
    assert canonical["市發改委"] == "武汉市发展和改革委员会"
    assert canonical["人行武漢分行營管部"] == "中国人民银行武汉分行营业管理部"
    assert {item.level for item in first} == {"municipal"}


def test_titles_targets_and_tags(seed):
    items = measures(seed)
    assert items[0].title == "扎實實施碳達峰行動"
    fourth = {(t.year, t.indicator, t.value, t.unit) for t in items[3].targets}
    assert (2025, "煤炭占能源消费总量的比重", "30", "%") in fourth
    assert (2025, "天然气用气量", "40", "亿立方米") in fourth
    assert "目标指标" in items[3].measures and "能源" in items[3].topics
    assert "固废" in items[13].topics  # (十四) 固体废物污染防治


def test_reparsing_gives_the_same_ids(seed):
    assert [clause.id for clause in ingest_file(SEED).clauses] == [clause.id for clause in seed.clauses]
    assert len({clause.id for clause in seed.clauses}) == len(seed.clauses)


def test_clause_text_keeps_original_script(seed):
    first = measures(seed)[0]
    assert first.text.startswith("扎實實施碳達峰行動。") and to_simplified(first.text) != first.text
