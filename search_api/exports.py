"""The 督查台账 (supervision ledger): one row per task, of a document or of a department across documents,
as CSV (UTF-8 with BOM, for Excel) and .xlsx.

Row 1 is a caption (《文件名称》 文号 成文日期, or the department and 「督查台账」), row 2 the header; then the
tasks. Units go to the column of their role: 牵头 / 责任 / 配合, and 属地落实 for place-wide units (各区人民政府,
相关区人民政府: a name starting with 各 or 相关) and units inherited from 「以下均需…落实」. 牵头依据 says
whether a lead is stated, ruled by the document or presumed from list order. 完成时限 and 目标指标 are read
from the task's text (deadlines.py); 进展情况 / 责任人 / 备注 are left blank for staff; 链接 is the clause's
permalink under the public URL. A department's ledger adds a 文件 column (title and 文号).

Cells come from documents, which anyone may upload: a cell starting with = + - @ (or a tab or
carriage return) would run as a formula in a spreadsheet. In .xlsx such cells are typed as text;
in CSV they get a leading apostrophe, the usual neutralisation.

Rows are produced one at a time and written in one pass (spreadsheet.py streams them into the .xlsx),
so a ledger costs time in proportion to its rows; `should_stop` is asked every `_CHECK_EVERY` rows, and
the writers raise `Cancelled` when it says yes.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from typing import BinaryIO, Callable, Iterable, Iterator

from ingest import Clause, Document, Responsibility, Role, Task
from index import Store
from index.directory import duty_clauses
from ingest.errors import FileTooLarge, NotFound
from ingest.normalize import matching_copy
from ingest.records import LeadBasis

from .admission import Cancelled
from .deadlines import deadlines, target_text, task_targets
from .spreadsheet import write_sheet

COLUMNS = ("序号", "条款", "重点任务", "牵头单位", "责任单位", "配合单位", "属地落实", "牵头依据", "完成时限", "目标指标",
           "进展情况", "责任人", "备注", "链接")
DEPARTMENT_COLUMNS = (COLUMNS[0], "文件", *COLUMNS[1:])
SHEET = "督查台账"
# How the ledger says where a lead came from (ingest.records.LeadBasis).
BASIS_TEXT = {LeadBasis.STATED: "文件明确", LeadBasis.RULE: "文件规则", LeadBasis.PRESUMED: "按排序推定"}
PLACE_WIDE = re.compile(r"^(?:各|相关)")  # 各区人民政府, 各县（市、区）人民政府, 相关区人民政府: 属地落实
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_WIDTHS = (6, 24, 60, 16, 24, 20, 16, 12, 14, 26, 16, 10, 10, 30)
_DEPARTMENT_WIDTHS = (_WIDTHS[0], 24, *_WIDTHS[1:])
_CHECK_EVERY = 200


@dataclass(frozen=True)
class LedgerRow:
    number: int
    document: str  # 《title》文号: in a department's ledger only
    clause: str
    task: str
    leads: str
    co: str  # 责任单位
    support: str  # 配合单位
    local: str  # 属地落实
    basis: str  # 牵头依据
    deadline: str
    targets: str
    link: str

    def cells(self, across_documents: bool) -> tuple[str | int, ...]:
        first = (self.number, self.document) if across_documents else (self.number,)
        return (*first, self.clause, self.task, self.leads, self.co, self.support, self.local, self.basis,
                self.deadline, self.targets, "", "", "", self.link)


@dataclass(frozen=True)
class Ledger:
    """A 督查台账: its caption (row 1), and its rows, produced as they are written."""

    title: str  # the file's title (document properties)
    caption: str
    rows: Iterable[LedgerRow]
    across_documents: bool = False

    @property
    def columns(self) -> tuple[str, ...]:
        return DEPARTMENT_COLUMNS if self.across_documents else COLUMNS


_EXPORT_PAGE = 500  # clauses read at a time for an export


def document_ledger(store: Store, doc_id: str, base_url: str, max_rows: int) -> Ledger:
    """A document's 督查台账, its clauses read `_EXPORT_PAGE` at a time (FileTooLarge over `max_rows`)."""
    header, total = store.document_header(doc_id), store.task_count(doc_id)
    if total > max_rows:
        raise FileTooLarge(f"《{header.title}》的督查台账有 {total} 行，超过导出上限 {max_rows} 行"
                           "（POLICYKB_EXPORT_MAX_ROWS）；请用 policykb show --json 导出全部任务")
    pages = (store.document_clauses(doc_id, start, _EXPORT_PAGE)
             for start in range(0, store.clause_count(doc_id), _EXPORT_PAGE))
    return Ledger(header.title, document_caption(header), task_rows((clause for page in pages for clause in page),
                                                                    base_url))


def department_ledger(store: Store, canonicals: tuple[str, ...], name: str, base_url: str, max_rows: int) -> Ledger:
    """The 督查台账 of the departments `name` stands for, across documents (NotFound for none)."""
    if not canonicals:
        raise NotFound(f"没有部门「{name}」负责的条款；可以试试全称或常用简称，或查看部门列表 /departments")
    title = "、".join(canonicals)
    duties = sum(sum(store.duty_counts(canonical).values()) for canonical in canonicals)
    if duties > max_rows:
        raise FileTooLarge(f"{title}的督查台账有 {duties} 处职责，超过导出上限 {max_rows} 行"
                           "（POLICYKB_EXPORT_MAX_ROWS）；请按文件分别导出")
    rows = at_most(department_rows(duty_clauses(store, canonicals, _EXPORT_PAGE), base_url), max_rows,
                   f"{title}的督查台账超过导出上限 {max_rows} 行（POLICYKB_EXPORT_MAX_ROWS）；请按文件分别导出")
    return Ledger(title, f"{title}　{SHEET}", rows, across_documents=True)


def document_caption(document: Document) -> str:
    """「《文件名称》　文号　成文日期」, saying so where the document has no 文号 or date."""
    return f"《{document.title}》　{document.doc_number or '（无文号）'}　{_chinese_date(document.date) or '（成文日期不详）'}"


def document_label(document: Document) -> str:
    """A department ledger's 文件 cell: 《title》 and the 文号."""
    return f"《{document.title}》{document.doc_number}"


def task_rows(clauses: Iterable[Clause], base_url: str) -> Iterator[LedgerRow]:
    """A document's rows in reading order: every task of every clause; clauses without markers are left out."""
    number = 0
    for clause in clauses:
        for ordinal, task in enumerate(clause.tasks):
            number += 1
            yield ledger_row(number, "", clause, ordinal, base_url)


def department_rows(duties: Iterable[tuple[Document, Clause, int]], base_url: str) -> Iterator[LedgerRow]:
    """A department's rows: (document, clause, task ordinal) in the order given; ordinal -1 for a duty the
    clause gives as a whole (inherited), which is a row per task of the clause, or one of its text."""
    number, labels = 0, {}
    for document, clause, ordinal in duties:
        label = labels.setdefault(document.id, document_label(document))
        for each in ([ordinal] if ordinal >= 0 else list(range(len(clause.tasks))) or [-1]):
            number += 1
            yield ledger_row(number, label, clause, each, base_url)


def ledger_row(number: int, document: str, clause: Clause, ordinal: int, base_url: str) -> LedgerRow:
    """The row of task `ordinal` of the clause (-1: the clause's text, for a clause without tasks)."""
    task = clause.tasks[ordinal] if ordinal >= 0 else Task(clause.text, "", ())
    local = [item for item in task.departments if _place_wide(item)] + list(clause.inherited)
    named = [item for item in task.departments if not _place_wide(item)]
    leads = [item for item in named if item.role == Role.LEAD]
    link = f"{base_url}/clauses/{clause.id}" + (f"?task={ordinal}" if ordinal >= 0 else "")
    return LedgerRow(number, document, _clause_label(clause), task.text, _names(leads),
                     _names(item for item in named if item.role == Role.CO),
                     _names(item for item in named if item.role == Role.SUPPORT), _names(local),
                     "、".join(dict.fromkeys(_basis_text(item) for item in task.departments if item.lead_basis)),
                     task.deadline or deadlines(task.text),
                     "；".join(target_text(target) for target in task_targets(clause.targets, task.text)), link)


def _place_wide(item: Responsibility) -> bool:
    """A unit named for every place (or inherited) that is not the lead: it goes to 属地落实."""
    return item.role == Role.INHERITED or (item.role != Role.LEAD and bool(PLACE_WIDE.match(matching_copy(item.name))))


def _names(items: Iterable[Responsibility]) -> str:
    printed = [item.name + (f"（含{'、'.join(item.includes)}）" if item.includes else "") for item in items]
    return "、".join(dict.fromkeys(printed))


def _basis_text(item: Responsibility) -> str:
    """文件明确 / 文件规则（the rule as printed） / 按排序推定."""
    text = BASIS_TEXT[item.lead_basis]
    return f"{text}（{item.basis.removeprefix('rule:')}）" if item.lead_basis == LeadBasis.RULE else text


def _clause_label(clause: Clause) -> str:
    return " › ".join([*clause.heading_path[-1:], f"{clause.number}{clause.title}"]).strip()


def _chinese_date(date: str) -> str:
    """2023-05-11 → 2023年5月11日; "" stays ""."""
    parts = date.split("-")
    if len(parts) != 3 or not all(part.isdigit() for part in parts):
        return date
    return f"{parts[0]}年{int(parts[1])}月{int(parts[2])}日"


def neutralise(value: str | int) -> str | int:
    """A CSV cell that a spreadsheet cannot run as a formula."""
    return "'" + value if isinstance(value, str) and value.startswith(_FORMULA_START) else value


def write_csv(ledger: Ledger, target: BinaryIO, should_stop: Callable[[], bool]) -> None:
    """UTF-8 with a BOM (Excel opens it as such), CRLF lines, the caption first, formula cells neutralised."""
    text = io.TextIOWrapper(target, encoding="utf-8-sig", newline="", write_through=True)
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow([neutralise(ledger.caption)])
    writer.writerow(ledger.columns)
    for row in _checked(ledger.rows, should_stop):
        writer.writerow([neutralise(cell) for cell in row.cells(ledger.across_documents)])
    text.detach()  # leave `target` open for the caller


def write_xlsx(ledger: Ledger, target: BinaryIO, should_stop: Callable[[], bool]) -> None:
    """One sheet: the caption, the header (bold, frozen, filtered, repeated on printed pages), landscape A4;
    text cells typed as text (never formulas) and wrapped."""
    widths = _DEPARTMENT_WIDTHS if ledger.across_documents else _WIDTHS
    write_sheet(target, SHEET, ledger.title, ledger.columns, widths,
                (row.cells(ledger.across_documents) for row in _checked(ledger.rows, should_stop)),
                caption=ledger.caption)


def at_most(rows: Iterable[LedgerRow], limit: int, refusal: str) -> Iterator[LedgerRow]:
    """The rows; FileTooLarge(`refusal`) once past `limit` (a duty of a whole clause is a row per task of it)."""
    for row in rows:
        if row.number > limit:
            raise FileTooLarge(refusal)
        yield row


def _checked(rows: Iterable[LedgerRow], should_stop: Callable[[], bool]) -> Iterator[LedgerRow]:
    for number, row in enumerate(rows):
        if number % _CHECK_EVERY == 0 and should_stop():
            raise Cancelled("导出已停止：客户端已断开或服务正在停止")
        yield row
