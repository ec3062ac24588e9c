"""The 督查台账 without a service: the deadline grammar part by part, targets in words, units by role, and
the streaming writer's print and filter setup read back by openpyxl."""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pytest

from ingest import Target
from search_api.deadlines import DEADLINE_PATTERNS, deadlines, target_text
from search_api.exports import COLUMNS, task_rows
from search_api.spreadsheet import write_sheet


@pytest.mark.parametrize("pattern, text, found", [
    ("preposition", "力争到2025年，完成植树造林10万亩", "2025年"),
    ("preposition", "至2023年底实现原生生活垃圾零填埋", "2023年底"),
    ("preposition", "于2024年6月底前完成排查", "2024年6月底前"),
    ("preposition", "截至2025年，累计建成50座", "2025年"),
    ("limit word", "2023年底之前基本完成超低排放改造", "2023年底之前"),
    ("limit word", "2025年底前，分类投放点全覆盖", "2025年底前"),
    ("limit word", "2024年上半年出台实施细则", "2024年上半年"),
    ("recurring", "每年12月底前报送工作进展", "每年12月底前"),
    ("plan period", "“十四五”期间，积极推动一批企业", "“十四五”期间"),
    ("plan period", "全面加强森林经营，十四五”期间抚育森林40万亩", "“十四五”期间"),
])
def test_each_deadline_pattern_reads_the_date_as_printed(pattern, text, found):
    assert DEADLINE_PATTERNS[pattern].search(text)
    assert deadlines(text) == found


@pytest.mark.parametrize("text", ["单位地区生产总值二氧化碳排放比2020年下降18%", "自2023年起施行", "2023年开展试点",
                                  "非化石能源消费比重比“十三五”末期提高4个百分点", "2025年前后基本建成"])
def test_years_the_text_only_mentions_are_not_deadlines(text):
    """A baseline (比/较), a start (起), a bare year, 「前后」 (about): no limit is stated."""
    assert deadlines(text) == ""


def test_ongoing_duties_are_written_as_printed_only_without_a_date():
    assert deadlines("坚持生态优先，長期堅持绿色发展") == "長期堅持"
    assert deadlines("持续推进生活垃圾焚烧处理能力建设") == "持续推进"
    assert deadlines("持续推进生活垃圾焚烧处理能力建设，至2023年底实现零填埋") == "2023年底"
    assert deadlines("推进清洁生产") == ""


def test_deadlines_of_a_traditional_text_keep_its_script_and_order():
    assert deadlines("到2025年,完成省級下達目標任務。“十四五”期間,積極推動") == "2025年、“十四五”期間"


@pytest.mark.parametrize("target, text", [
    (Target(2025, "煤炭占能源消费总量的比重", "30", "%", "到2025年,全市煤炭占能源消費總量的比重下降至30%以內"),
     "2025年 煤炭占能源消费总量的比重 ≤30%"),
    (Target(2025, "城市污泥无害化处置率", "95", "%", "到2025年，城市污泥无害化处置率达到95%以上"),
     "2025年 城市污泥无害化处置率 ≥95%"),
    (Target(2025, "新能源城市公交车辆占比超", "80", "%", "到2025年，新能源城市公交车辆占比超80%"),
     "2025年 新能源城市公交车辆占比 >80%"),
    (Target(2025, "非化石能源消费比重", "4", "个百分点", "到2025年，非化石能源消费比重提高4个百分点以上"),
     "2025年 非化石能源消费比重 提高≥4个百分点"),
    (Target(2025, "完成植树造林", "10", "万亩", "力争到2025年，完成植树造林10万亩"), "2025年 完成植树造林 10万亩"),
])
def test_targets_are_written_with_the_comparison_the_sentence_makes(target, text):
    assert target_text(target) == text


def test_the_seed_ledger_fills_the_deadlines_its_text_states(seed):
    """On the seed, 11 of 23 tasks state a deadline (7 before the grammar was widened): 8 dated or a plan
    period, 3 an ongoing duty; the rest state none and stay empty."""
    rows = list(task_rows(seed.clauses, "https://kb.example.org"))
    assert len(rows) == 23 and sum(bool(row.deadline) for row in rows) == 11
    by_clause = {row.clause.rsplit("›", 1)[-1].strip()[:4]: row for row in rows}
    assert by_clause["(十一)"].deadline == "2023年底之前" and by_clause["(十四)"].deadline == "2023年底"
    assert by_clause["(十八)"].deadline == "“十四五”期間" and by_clause["(一)扎"].deadline == ""
    assert by_clause["(四)推"].targets == "2025年 煤炭占能源消费总量的比重 ≤30%；2025年 天然气用气量 ≥40亿立方米"


def test_place_wide_and_inherited_units_go_to_local_delivery(seed):
    row = next(task_rows(seed.clauses, "https://kb.example.org"))
    assert row.leads == "市發改委" and row.basis == "按排序推定"
    assert row.local.startswith("各區人民政府") and "各區" not in row.co and row.support == ""
    assert row.link == f"https://kb.example.org/clauses/{seed.id}.s2.p1?task=0"
    assert len(row.cells(False)) == len(COLUMNS)


def test_the_streamed_sheet_has_a_caption_frozen_header_filter_and_print_setup():
    buffer = io.BytesIO()
    rows = [(number, f"第{number}项", "=1+1") for number in range(1, 451)]  # more than one buffered chunk
    write_sheet(buffer, "督查'台账", "标题", ("序号", "条款", "任务"), (6, 20, 40), iter(rows), caption="《标题》　文号")
    workbook = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))
    sheet = workbook.active
    assert sheet["A1"].value == "《标题》　文号" and sheet["A1"].font.b and "A1:C1" in sheet.merged_cells
    assert [cell.value for cell in sheet[2]] == ["序号", "条款", "任务"] and sheet["A2"].font.b
    assert sheet.freeze_panes == "A3" and sheet.auto_filter.ref == "A2:C452" and sheet.print_title_rows == "$1:$2"
    assert sheet.page_setup.orientation == "landscape" and int(sheet.page_setup.paperSize) == 9
    assert sheet.page_setup.fitToWidth == 1 and sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet["C452"].value == "=1+1" and sheet["C452"].data_type == "s"
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as archive:  # Excel wants the filter's defined name too
        assert "<definedName name=\"_xlnm._FilterDatabase\" localSheetId=\"0\" hidden=\"1\">'督查''台账'!$A$2:$C$452" \
            in archive.read("xl/workbook.xml").decode()
