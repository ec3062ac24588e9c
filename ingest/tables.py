"""Tables as the readers find them: spans expanded into a grid, layout tables told from data tables.

A reader collects each table's rows of `Cell`s (text, rowspan, colspan) and emits the rows as text
blocks; `expand` turns the rows into the grid a `SourceTable` holds (a merged cell's text in every
position it covers); `is_layout` says whether the table only lays out text (one cell, one column,
one row, or a cell holding a whole article), which readers unwrap into paragraphs instead of
reporting. Tables are bounded: a grid over `MAX_TABLE_CELLS` is not kept as a table (its text stays
in the blocks), so `<td colspan=1000 rowspan=65534>` costs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from .records import SourceTable

MAX_TABLE_CELLS = 200_000  # positions in one expanded grid
MAX_SPAN = 1000  # HTML caps colspan at 1000; rowspan is cut at the table's last row
LAYOUT_CELL_CHARS = 2000  # a cell this long holds an article, not a value
ROW_SEPARATOR = "\u3000"  # between the cells of a row's text block (as DOCX rows have always been read)


@dataclass(frozen=True)
class Cell:
    """A cell as printed: its text (lines joined by "\\n") and how many rows and columns it spans."""

    text: str
    rowspan: int = 1
    colspan: int = 1


def expand(rows: Sequence[Sequence[Cell]]) -> tuple[tuple[str, ...], ...] | None:
    """The grid of `rows` with spans repeated; rows padded with "" to the widest; None when too large."""
    grid: list[list[str | None]] = [[] for _ in rows]
    budget = MAX_TABLE_CELLS
    for index, row in enumerate(rows):
        column = 0
        for cell in row:
            line = grid[index]
            while column < len(line) and line[column] is not None:
                column += 1
            rowspan = len(rows) - index if cell.rowspan <= 0 else min(cell.rowspan, len(rows) - index)
            colspan = min(max(cell.colspan, 1), MAX_SPAN)
            budget -= rowspan * colspan
            if budget < 0:
                return None
            for covered in grid[index:index + rowspan]:
                covered.extend([None] * (column + colspan - len(covered)))
                for position in range(column, column + colspan):
                    if covered[position] is None:
                        covered[position] = cell.text
            column += colspan
    width = max((len(line) for line in grid), default=0)
    if len(grid) * width > MAX_TABLE_CELLS:
        return None
    return tuple(tuple(text or "" for text in line) + ("",) * (width - len(line)) for line in grid)


def is_layout(grid: Sequence[Sequence[str]]) -> bool:
    """One row, one column or one cell of text, or a cell holding a whole article: not a data table."""
    rows = [row for row in grid if any(row)]
    columns = [index for index in range(max((len(row) for row in rows), default=0)) if any(
        index < len(row) and row[index] for row in rows)]
    if len(rows) < 2 or len(columns) < 2:
        return True
    return any(len(text) > LAYOUT_CELL_CHARS for row in rows for text in row)


def row_text(cells: Sequence[str]) -> str:
    """A row as one text block: its distinct non-empty cells in order (a merged cell once)."""
    return ROW_SEPARATOR.join(dict.fromkeys(text for text in cells if text))


def drop_blocks(blocks: Sequence[str], tables: Sequence[SourceTable],
                dropped: set[int]) -> tuple[tuple[str, ...], tuple[SourceTable, ...]]:
    """`blocks` without the `dropped` indexes, and the tables with their ranges moved to match; a table
    whose blocks were all dropped is dropped too."""
    kept_before = [0]
    for index in range(len(blocks)):
        kept_before.append(kept_before[-1] + (index not in dropped))
    moved = tuple(SourceTable(table.rows, kept_before[table.start], kept_before[table.end]) for table in tables)
    return (tuple(block for index, block in enumerate(blocks) if index not in dropped),
            tuple(table for table in moved if table.end > table.start))
