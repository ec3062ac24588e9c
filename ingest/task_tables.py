"""Task tables (重点任务分工表): rows become tasks, columns are mapped by their headers.

    序号 | 重点任务 | 牵头单位 | 配合单位 | 完成时限
    序号 | 工作事项 | 主要内容 | 牵头部门 | 主责单位 | 协办单位 | 时间安排

A table is a task table when one of its first rows names a unit column (牵头… 责任… 配合… 协办…
with 单位 / 部门 / 处室) and a task column (任务 / 事项 / 内容 / 措施). Task columns are joined
into the task's text; unit cells are split at 、，；/ line breaks into names in column order;
the 完成时限 / 时间 column is the deadline. Rows that repeat the header (a table continued on the
next page) and rows without any task text are skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .normalize import compact
from .records import SourceTable
from .segments import ROLE_NOTE

# Header words → the role class of a unit column (as markers.py's classes).
_UNIT_HEADER = re.compile(r"(?P<role>牵头|主责|主办|责任|负责|配合|协办|参与|协助|支持|实施|承办)"
                          r"(?:单位|部门|处室|科室|机构)")  # not 责任领导 / 责任人: people, not units
_ROLE_CLASS = {"牵头": "lead", "主责": "lead", "主办": "lead", "配合": "support", "协办": "support",
               "参与": "support", "协助": "support", "支持": "support"}
_TASK_HEADER = re.compile(r"任务|事项|内容|措施|举措|工作|项目|目标|要求")
_DEADLINE_HEADER = re.compile(r"时限|时间|期限|进度|节点")
_NAME_SEPARATOR = re.compile(r"[、,，;；/\n]+")
_HEADER_ROWS = 3  # how far down a header row may be (a title row, a unit row may come first)


@dataclass(frozen=True)
class Column:
    index: int
    kind: str  # task | unit | deadline
    header: str  # as printed, e.g. 牵头单位
    role: str = ""  # unit columns: lead | listed | support


@dataclass(frozen=True)
class TableRow:
    text: str  # the task columns joined with 「：」
    units: tuple[tuple[str, str, str], ...]  # (name, role class, column header) in column order
    deadline: str
    row: int  # index in the table's rows


def columns_of(table: SourceTable) -> tuple[int, tuple[Column, ...]] | None:
    """(header row index, mapped columns) when the table is a task table, else None."""
    for index, row in enumerate(table.rows[:_HEADER_ROWS]):
        columns = []
        for position, cell in enumerate(row):
            header = re.sub(r"[(（〔][^)）〕]*[)）〕]", "", compact(cell))  # 「责任单位（列第一位的为牵头单位）」
            if len(header) > 16:
                continue
            if match := _UNIT_HEADER.search(header):
                columns.append(Column(position, "unit", cell.strip(), _ROLE_CLASS.get(match.group("role"), "listed")))
            elif _DEADLINE_HEADER.search(header):
                columns.append(Column(position, "deadline", cell.strip()))
            elif _TASK_HEADER.search(header) and not re.fullmatch(r"序号|编号|备注", header):
                columns.append(Column(position, "task", cell.strip()))
        kinds = {column.kind for column in columns}
        if {"unit", "task"} <= kinds:
            return index, tuple(columns)
    return None


def task_rows(table: SourceTable) -> list[TableRow]:
    """The task rows of a task table ([] for any other table)."""
    mapped = columns_of(table)
    if mapped is None:
        return []
    header_index, columns = mapped
    header = [compact(cell) for cell in table.rows[header_index]]
    rows = []
    for index, row in enumerate(table.rows[header_index + 1:], header_index + 1):
        cells = [compact(cell) for cell in row]
        if cells[:len(header)] == header or not any(cells):
            continue  # a repeated header row on a continued page, or an empty row
        cell = lambda column: row[column.index].strip() if column.index < len(row) else ""  # noqa: E731
        texts = list(dict.fromkeys(text for column in columns if column.kind == "task" and (text := cell(column))))
        if not texts:
            continue
        units = tuple(_noted(name, column) for column in columns if column.kind == "unit"
                      for name in split_cell(cell(column)))
        deadline = next((text for column in columns if column.kind == "deadline" and (text := cell(column))), "")
        rows.append(TableRow("：".join(texts), units, deadline, index))
    return rows


def _noted(name: str, column: Column) -> tuple[str, str, str]:
    """(name, role class, header) of a cell's name; a role noted after it (「市住建局（牵头）」) wins."""
    if note := ROLE_NOTE.search(name):
        return name[:note.start()].strip(), _ROLE_CLASS[note.group("role")], column.header
    return name, column.role, column.header


def split_cell(text: str) -> list[str]:
    """Unit names of one cell: separated by 、，；/ or line breaks, 等 tails and empty marks removed."""
    names, depth, pieces, current = [], 0, [], ""
    for char in text:
        depth += char in "（(〈"
        depth -= char in "）)〉"
        if depth <= 0 and _NAME_SEPARATOR.fullmatch(char):
            pieces.append(current)
            current = ""
        else:
            current += char
    for name in (*pieces, current):
        name = re.sub(r"等(?:有关|相关)?(?:部门和单位|部门|单位)?$", "", name.strip(" \t\u3000"))
        if name and name not in ("—", "-", "/", "无", "——"):
            names.append(name)
    return names
