"""Markdown to paragraphs: laws as in LawRefBook, and web pages captured as markdown.

LawRefBook: `# 标题`, optional `# 编名`, notes, `<!-- INFO END -->`, `## 第一章`. Web captures (Firecrawl,
policy tools) carry links, images, emphasis, site chrome, a metadata list (「- [ 索引号 ]」, 「**发布日期**: …」)
and pipe tables. Inline markup is reduced to its text (images dropped, links to their words, `\\|`
escapes undone, HTML tags removed, scripts and styles with their content). A pipe table's separator
row is dropped and `<br>` in a cell is a line break; a data table's rows are blocks (non-empty cells joined
by 「　」 as DOCX rows are) and the table is returned beside them; a layout table (one cell or one column, e.g. a
page that put its whole body in one cell) is unwrapped into paragraphs. Metadata lines above the body
are read (ingest/page_metadata.py) and taken out of the blocks.
"""

from __future__ import annotations

import re

from . import page_metadata, tables
from .records import SourceTable

_DATED_NAME = re.compile(r"[（(](\d{4}-\d{2}-\d{2})[)）]$")
_IMAGE = re.compile(r"!\[[^\]]*\]\((?:[^()\s]|\([^()]*\))*(?:\s+\"[^\"]*\")?\)")
_LINK = re.compile(r"\[([^\]]*)\]\((?:[^()\s]|\([^()]*\))*(?:\s+\"[^\"]*\")?\)")
_EMPHASIS = re.compile(r"\*\*|__|~~")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>~<])")
_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_HIDDEN = re.compile(r"<(script|style)\b.*?(</\1\s*>|$)", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(\s[^<>]*)?/?>")
_BULLET = re.compile(r"^(?:[-*+]|>)\s+")
_RULE = re.compile(r"^(-{3,}|\*{3,}|_{3,})$")
_TABLE_SEPARATOR = re.compile(r"^:?-+:?$")
_CELL_BORDER = re.compile(r"(?<!\\)\|")


def markdown_blocks(text: str, stem: str) -> tuple[tuple[str, ...], tuple[SourceTable, ...], dict[str, str]]:
    """The paragraphs, the data tables and the metadata of a markdown file named `stem`."""
    lines = [line.strip() for line in _HIDDEN.sub("", text).splitlines()]
    if lines and lines[0] == "---":  # YAML front matter
        end = lines.index("---", 1) if "---" in lines[1:] else 0
        lines = lines[end + 1:]
    titles = [plain(line[2:]) for line in lines if line.startswith("# ")]
    metadata: dict[str, str] = {}
    if titles:
        metadata["title"] = titles[0]
    if len(titles) > 1:
        metadata["part"] = titles[1]
    if "<!-- INFO END -->" in lines:
        cut = lines.index("<!-- INFO END -->")
        notes = [line for line in lines[:cut] if line and not line.startswith("#")]
        metadata["notes"] = "\n".join(notes)
        lines = lines[cut + 1:]
    if dated := _DATED_NAME.search(stem):
        metadata["date"] = dated.group(1)
    blocks, found = _body(line for line in lines if not line.startswith("# ") and not line.startswith("<!--"))
    blocks, found, page = page_metadata.take_metadata(blocks, found)
    return blocks, found, {**page, **metadata}


def plain(line: str) -> str:
    """A markdown line's text: images dropped, links to their words, emphasis and tags removed."""
    line = _LINK.sub(r"\1", _IMAGE.sub("", line))
    line = _ESCAPE.sub(r"\1", _TAG.sub("", _EMPHASIS.sub("", line)))
    return _BULLET.sub("", line.lstrip("#").strip()).strip()


def _body(lines) -> tuple[list[str], list[SourceTable]]:
    blocks: list[str] = []
    found: list[SourceTable] = []
    table_lines: list[str] = []
    for line in [*lines, ""]:
        if line.startswith("|"):
            table_lines.append(line)
            continue
        if table_lines:
            _add_table(table_lines, blocks, found)
            table_lines = []
        if not _RULE.match(line):
            blocks += [text for part in _BREAK.split(line) if (text := plain(part))]
    return blocks, found


def _add_table(lines: list[str], blocks: list[str], found: list[SourceTable]) -> None:
    rows = [cells for cells in map(_cells, lines) if not all(_TABLE_SEPARATOR.match(cell) for cell in cells)]
    grid = tables.expand([[tables.Cell(cell) for cell in row] for row in rows])
    if grid is not None and not tables.is_layout(grid):
        start = len(blocks)
        blocks += [text for row in grid if (text := tables.ROW_SEPARATOR.join(cell for cell in row if cell))]
        found.append(SourceTable(grid, start, len(blocks)))
        return
    for row in rows:  # a layout table: its cells' lines are paragraphs
        blocks += [text for cell in dict.fromkeys(row) for text in cell.split("\n") if text]


def _cells(line: str) -> list[str]:
    """The cells of a pipe-table row, each cell's `<br>`s as line breaks."""
    parts = _CELL_BORDER.split(line.strip())
    parts = parts[1:-1] if len(parts) > 1 and line.rstrip().endswith("|") else parts[1:]
    return ["\n".join(text for piece in _BREAK.split(part) if (text := plain(piece))) for part in parts]
