"""Ruled tables of PDF pages: pdfplumber's table finder, cell text with its wraps undone, and tables
continued over a page break joined into one.

pdfplumber finds tables from the page's ruling lines and gives each cell's box; the grid is the set
of distinct box edges, so a merged cell covers several positions and its text is repeated in each.
Cell text is set from the characters inside the box: a line that runs to the cell's right edge is
wrapped and joins the next without a break, a shorter one ends a line (「市发改委」 / 「市财政局」 stay two
lines, 「市住房城乡建」 + 「设局」 becomes one); characters set one per line are vertical type and are joined.
Boxes stacked one per row (ABBYY conversions draw one behind each line of text) and frames around
text (one column) are layout, not tables.

A table that ends a page and one that starts the next are one table when the second repeats the
first's header row(s) (dropped) or when their columns line up (same outer edges, one's column edges
a subset of the other's: a header merged over columns that the next page splits).
"""

from __future__ import annotations

import bisect
import collections
from dataclasses import dataclass, replace
from typing import Sequence

from . import tables

EDGE_TOLERANCE = 3.0  # points within which two edges are the same edge
_PAGE_OFFSET = 100_000.0  # cells of a continued part are placed this far below per page


@dataclass(frozen=True)
class CellBox:
    x0: float
    x1: float
    top: float
    bottom: float
    text: str


@dataclass(frozen=True)
class PageTable:
    """A data table found on one page (or joined over several, `page` being the first)."""

    page: int
    last_page: int
    top: float  # share of the page height, for reading order
    bottom: float
    bbox: tuple[float, float, float, float]  # x0, top, x1, bottom on its first page
    cells: tuple[CellBox, ...]
    rows: tuple[tuple[str, ...], ...]
    row_texts: tuple[str, ...]  # each row as a text block

    def holds(self, char: dict) -> bool:
        """Whether a character (of the table's first page) has its centre inside the table."""
        x, y = (char["x0"] + char["x1"]) / 2, (char["top"] + char["bottom"]) / 2
        return self.bbox[0] <= x <= self.bbox[2] and self.bbox[1] <= y <= self.bbox[3]


def page_tables(page, number: int) -> list[PageTable]:
    """The data tables of a pdfplumber page; none without ruling lines."""
    if not (page.rects or page.lines):
        return []
    found = []
    for table in page.find_tables():
        cells = _cell_texts(page.chars, [box for box in table.cells if box])
        laid_out = grid(cells) if _rows_of_several_cells(cells) >= 2 else None
        if laid_out is not None and not tables.is_layout(laid_out[0]):
            top, bottom = table.bbox[1] / float(page.height), table.bbox[3] / float(page.height)
            found.append(PageTable(number, number, top, bottom, tuple(table.bbox), tuple(cells), *laid_out))
    return found


def grid(cells: Sequence[CellBox]) -> tuple[tuple[tuple[str, ...], ...], tuple[str, ...]] | None:
    """Rows of the grid the cell boxes form, a cell's text in every position it covers, and each row as
    a text block (the distinct cells it crosses, left to right); bands no cell covers (the gap
    between two pages' parts) are not rows. None when the grid is too large."""
    xs, ys = _column_edges(cells), _row_edges(cells)
    if (len(xs) - 1) * (len(ys) - 1) > tables.MAX_TABLE_CELLS or len(xs) < 2 or len(ys) < 2:
        return None
    positions: list[list[str]] = [["" for _ in xs[1:]] for _ in ys[1:]]
    crossing: list[list[CellBox]] = [[] for _ in ys[1:]]
    for cell in sorted(cells, key=lambda cell: cell.x0):
        top = _index(ys, cell.top)
        for row in range(top, max(_index(ys, cell.bottom), top + 1)):
            crossing[row].append(cell)
            left = _index(xs, cell.x0)
            for column in range(left, max(_index(xs, cell.x1), left + 1)):
                positions[row][column] = positions[row][column] or cell.text
    kept = [row for row in range(len(positions)) if crossing[row]]
    texts = tuple(tables.ROW_SEPARATOR.join(cell.text for cell in crossing[row] if cell.text) for row in kept)
    return tuple(tuple(positions[row]) for row in kept), texts


def _rows_of_several_cells(cells: Sequence[CellBox]) -> int:
    """Rows in which cells stand side by side: boxes stacked one per row (ABBYY draws one behind every
    line of text) are no table, whatever their widths."""
    starts = collections.Counter(round(cell.top / EDGE_TOLERANCE) for cell in cells)
    return sum(1 for count in starts.values() if count >= 2)


def join_continued(first: PageTable, second: PageTable) -> PageTable | None:
    """The two parts as one table when `second` (on the next page) continues `first`, else None."""
    if second.page != first.last_page + 1:
        return None
    repeated = 0
    while repeated < min(3, len(first.rows), len(second.rows) - 1) and first.rows[repeated] == second.rows[repeated]:
        repeated += 1
    if not repeated and not _columns_line_up(first.cells, second.cells):
        return None
    header_end = _row_edges(second.cells)[repeated]
    shift = (second.page - first.page) * _PAGE_OFFSET
    moved = tuple(replace(cell, top=cell.top + shift, bottom=cell.bottom + shift)
                  for cell in second.cells if cell.top >= header_end - EDGE_TOLERANCE)
    cells = first.cells + moved
    laid_out = grid(cells)
    if laid_out is None:
        return None
    return PageTable(first.page, second.page, first.top, second.bottom, first.bbox, cells, *laid_out)


def _columns_line_up(first: Sequence[CellBox], second: Sequence[CellBox]) -> bool:
    a, b = _column_edges(first), _column_edges(second)
    if abs(a[0] - b[0]) > EDGE_TOLERANCE or abs(a[-1] - b[-1]) > EDGE_TOLERANCE:
        return False
    fewer, more = sorted((a, b), key=len)
    return all(any(abs(edge - other) <= EDGE_TOLERANCE for other in more) for edge in fewer)


def _column_edges(cells: Sequence[CellBox]) -> list[float]:
    return _edges([cell.x0 for cell in cells] + [cell.x1 for cell in cells])


def _row_edges(cells: Sequence[CellBox]) -> list[float]:
    return _edges([cell.top for cell in cells] + [cell.bottom for cell in cells])


def _edges(values: Sequence[float]) -> list[float]:
    """Distinct edges: values within EDGE_TOLERANCE of the previous one are the same edge."""
    edges: list[float] = []
    for value in sorted(values):
        if not edges or value - edges[-1] > EDGE_TOLERANCE:
            edges.append(value)
    return edges


def _index(edges: list[float], value: float) -> int:
    """The index of the edge `value` is (nearest within tolerance, as edges were clustered)."""
    position = bisect.bisect_left(edges, value - EDGE_TOLERANCE)
    return min(position, len(edges) - 1)


def _cell_texts(chars: Sequence[dict], boxes: Sequence[tuple[float, float, float, float]]) -> list[CellBox]:
    """Each box with the text of the characters whose centre lies in it (found through the grid of
    box edges, so the work is one lookup per character)."""
    boxes = sorted(boxes, key=lambda box: (box[1], box[0]))
    xs = _edges([box[0] for box in boxes] + [box[2] for box in boxes])
    ys = _edges([box[1] for box in boxes] + [box[3] for box in boxes])
    if (len(xs) - 1) * (len(ys) - 1) > tables.MAX_TABLE_CELLS:
        return []
    owner: dict[tuple[int, int], int] = {}
    for number, (x0, top, x1, bottom) in enumerate(boxes):
        for row in range(_index(ys, top), _index(ys, bottom)):
            for column in range(_index(xs, x0), _index(xs, x1)):
                owner.setdefault((row, column), number)
    members: list[list[dict]] = [[] for _ in boxes]
    for char in chars:
        x, y = (char["x0"] + char["x1"]) / 2, (char["top"] + char["bottom"]) / 2
        if xs[0] <= x <= xs[-1] and ys[0] <= y <= ys[-1]:
            cell = owner.get((bisect.bisect_right(ys, y) - 1, bisect.bisect_right(xs, x) - 1))
            if cell is not None:
                members[cell].append(char)
    return [CellBox(box[0], box[2], box[1], box[3], _text(members[number], box[0], box[2]))
            for number, box in enumerate(boxes)]


def _text(chars: list[dict], left: float, right: float) -> str:
    lines = _lines(chars)
    if not lines:
        return ""
    texts = [_line_text(line) for line in lines]
    if len(texts) > 1 and all(len(text) <= 2 for text in texts):  # vertical type: one character a line
        return "".join(texts)
    width = max(((char["x1"] - char["x0"]) for line in lines for char in line), default=0.0)
    padding = min(line[0]["x0"] for line in lines) - left
    out = texts[0]
    for line, text in zip(lines, texts[1:]):
        wrapped = line[-1]["x1"] >= right - padding - 1.2 * width
        out += ("" if wrapped else "\n") + text
    return out


def _lines(chars: list[dict]) -> list[list[dict]]:
    lines: list[list[dict]] = []
    for char in sorted(chars, key=lambda char: (char["top"], char["x0"])):
        if lines and char["top"] - lines[-1][0]["top"] <= max(1.0, 0.5 * (char["bottom"] - char["top"])):
            lines[-1].append(char)
        else:
            lines.append([char])
    return [sorted(line, key=lambda char: char["x0"]) for line in lines]


def _line_text(line: list[dict]) -> str:
    """The characters of a line, a space where a gap wider than EDGE_TOLERANCE has none."""
    text = line[0]["text"]
    for before, char in zip(line, line[1:]):
        gap = char["x0"] - before["x1"] > EDGE_TOLERANCE and not text.endswith(" ") and char["text"] != " "
        text += (" " if gap else "") + char["text"]
    return " ".join(text.split())
