"""The 任务分工表 of a document: one row per task, as CSV (UTF-8 with BOM, for Excel) and .xlsx.

Cells come from documents, which anyone may upload: a cell starting with = + - @ (or a tab or
carriage return) would run as a formula in a spreadsheet. In .xlsx such cells are typed as text;
in CSV they get a leading apostrophe, the usual neutralisation.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from ingest import Clause, Document
from ingest.records import LeadBasis

COLUMNS = ("序号", "条款", "重点任务", "牵头单位", "牵头依据", "配合单位/责任单位", "目标年份/时限", "链接")
# How the export says where a lead came from (ingest.records.LeadBasis).
BASIS_TEXT = {LeadBasis.STATED: "文件明确", LeadBasis.RULE: "文件规则（列第一位者牵头）", LeadBasis.PRESUMED: "按排序推定"}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_DEADLINE = re.compile(r"(?:到|至|于|在)?(\d{4})\s*年(?:\d{1,2}\s*月)?(?:底|年底|末|前|以前|上半年|下半年)*前?")
_WIDTHS = (6, 28, 70, 22, 14, 36, 16, 40)


@dataclass(frozen=True)
class TaskRow:
    number: int
    clause: str
    task: str
    leads: str
    basis: str
    others: str
    deadline: str
    link: str

    def cells(self) -> tuple[str | int, ...]:
        return (self.number, self.clause, self.task, self.leads, self.basis, self.others, self.deadline, self.link)


def task_rows(document: Document, base_url: str) -> list[TaskRow]:
    """Rows in reading order: every task of every clause; clauses without markers are left out."""
    rows = []
    for clause in document.clauses:
        for ordinal, task in enumerate(clause.tasks):
            leads = [item.name for item in task.departments if item.role == "lead"]
            basis = "、".join(dict.fromkeys(BASIS_TEXT[item.lead_basis] for item in task.departments if item.lead_basis))
            others = [item.name for item in task.departments if item.role != "lead"]
            others += [item.name for item in clause.inherited if item.name not in others]
            rows.append(TaskRow(len(rows) + 1, _clause_label(clause), task.text, "、".join(leads), basis, "、".join(others),
                                task.deadline or _deadline(clause, task.text),
                                f"{base_url}/clauses/{clause.id}?task={ordinal}"))
    return rows


def _clause_label(clause: Clause) -> str:
    return " › ".join([*clause.heading_path[-1:], f"{clause.number}{clause.title}"]).strip()


def _deadline(clause: Clause, task: str) -> str:
    """Target years of the clause that the task states, else the deadlines written in the task."""
    years = [f"{target.year}年" for target in clause.targets if target.text and target.text[:20] in task]
    found = years or [match.group(0).lstrip("到至于在") for match in _DEADLINE.finditer(task)]
    return "、".join(dict.fromkeys(found))


def neutralise(value: str | int) -> str | int:
    """A CSV cell that a spreadsheet cannot run as a formula."""
    return "'" + value if isinstance(value, str) and value.startswith(_FORMULA_START) else value


def to_csv(rows: list[TaskRow]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows([neutralise(cell) for cell in row.cells()] for row in rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(rows: list[TaskRow], title: str) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "任务分工表"
    sheet.append(COLUMNS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(row.cells())
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # text, even when it starts with =
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    for column, width in zip("ABCDEFG", _WIDTHS):
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = "A2"
    workbook.properties.title = title[:200]
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
