"""The 任务分工表 of a document: one row per task, as CSV (UTF-8 with BOM, for Excel) and .xlsx.

Cells come from documents, which anyone may upload: a cell starting with = + - @ (or a tab or
carriage return) would run as a formula in a spreadsheet. In .xlsx such cells are typed as text;
in CSV they get a leading apostrophe, the usual neutralisation.

Rows are produced from the clauses one at a time and written in one pass (spreadsheet.py streams
them into the .xlsx), so a table costs time in proportion to its rows; `should_stop` is asked every
`_CHECK_EVERY` rows, and the writers raise `Cancelled` when it says yes.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from typing import BinaryIO, Callable, Iterable, Iterator

from ingest import Clause, Role
from ingest.records import LeadBasis

from .admission import Cancelled
from .spreadsheet import write_sheet

COLUMNS = ("序号", "条款", "重点任务", "牵头单位", "牵头依据", "配合单位/责任单位", "目标年份/时限", "链接")
# How the export says where a lead came from (ingest.records.LeadBasis).
BASIS_TEXT = {LeadBasis.STATED: "文件明确", LeadBasis.RULE: "文件规则（列第一位者牵头）", LeadBasis.PRESUMED: "按排序推定"}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_DEADLINE = re.compile(r"(?:到|至|于|在)?(\d{4})\s*年(?:\d{1,2}\s*月)?(?:底|年底|末|前|以前|上半年|下半年)*前?")
_WIDTHS = (6, 28, 70, 22, 14, 36, 16, 40)
_CHECK_EVERY = 200


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


def task_rows(clauses: Iterable[Clause], base_url: str) -> Iterator[TaskRow]:
    """Rows in reading order: every task of every clause; clauses without markers are left out."""
    number = 0
    for clause in clauses:
        for ordinal, task in enumerate(clause.tasks):
            leads = [item.name for item in task.departments if item.role == Role.LEAD]
            basis = "、".join(dict.fromkeys(BASIS_TEXT[item.lead_basis] for item in task.departments if item.lead_basis))
            others = [item.name for item in task.departments if item.role != Role.LEAD]
            others += [item.name for item in clause.inherited if item.name not in others]
            number += 1
            yield TaskRow(number, _clause_label(clause), task.text, "、".join(leads), basis, "、".join(others),
                          task.deadline or _deadline(clause, task.text), f"{base_url}/clauses/{clause.id}?task={ordinal}")


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


def write_csv(rows: Iterable[TaskRow], title: str, target: BinaryIO, should_stop: Callable[[], bool]) -> None:
    """UTF-8 with a BOM (Excel opens it as such), CRLF lines, formula cells neutralised."""
    text = io.TextIOWrapper(target, encoding="utf-8-sig", newline="", write_through=True)
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in _checked(rows, should_stop):
        writer.writerow([neutralise(cell) for cell in row.cells()])
    text.detach()  # leave `target` open for the caller


def write_xlsx(rows: Iterable[TaskRow], title: str, target: BinaryIO, should_stop: Callable[[], bool]) -> None:
    """One sheet, header in bold and frozen, text cells typed as text (never formulas) and wrapped."""
    write_sheet(target, "任务分工表", title, COLUMNS, _WIDTHS, (row.cells() for row in _checked(rows, should_stop)))


def _checked(rows: Iterable[TaskRow], should_stop: Callable[[], bool]) -> Iterator[TaskRow]:
    for number, row in enumerate(rows):
        if number % _CHECK_EVERY == 0 and should_stop():
            raise Cancelled("导出已停止：客户端已断开或服务正在停止")
        yield row
