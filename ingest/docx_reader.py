"""DOCX to paragraphs and tables with python-docx, after checking the zip container is safe to open.

Bounded work: python-docx builds an lxml tree of every XML part (about ten times its size in memory,
and tens of microseconds per paragraph), so the parts are bounded before it sees them: each XML part
by its uncompressed size (`docx_xml_part_bytes`), all of them together (`docx_xml_bytes`), and the
number of elements and paragraphs they hold (`docx_xml_elements`, `docx_paragraphs`: `ingest.options.WorkBounds`), counted from their
tags as they inflate, keeping nothing. Zip's own bounds stay: entries that would escape a folder,
a compression ratio or a size beyond those of `ingest.archives` (shared with OFD).

Tables: each row is a text block (its distinct cells joined by 「　」), and the table is returned with
the range of those blocks; merged cells (gridSpan, vMerge) repeat their text in every position they
cover. A table inside a cell is flattened into that cell, one line per row. A layout table (one
cell, one column, or a cell holding a whole article) is unwrapped: its cells' paragraphs are blocks
and its own tables are read as tables.
"""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

import docx
from docx.opc.exceptions import PackageNotFoundError
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph
from lxml.etree import XMLSyntaxError

from . import tables
from .archives import check_entries
from .errors import CorruptFile, EncryptedFile, UnsafeArchive
from .options import WorkBounds
from .records import SourceTable

_XML_SUFFIXES = (".xml", ".rels")
# Word saves a password-protected .docx as an OLE compound file (the container of old .doc files).
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def check_archive(path: Path, bounds: WorkBounds = WorkBounds()) -> None:
    """Refuse zip bombs, oversized XML and entries that would escape a folder, before any XML is parsed."""
    with path.open("rb") as handle:
        if handle.read(len(_OLE_MAGIC)) == _OLE_MAGIC:
            raise EncryptedFile(f"{path.name}: DOCX 已加密（需要密码），或是改了扩展名的旧版 .doc；"
                                "请提供未加密的 .docx")
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
            _check_entries(path, entries, bounds)
            _check_xml_elements(path, archive, entries, bounds)
    except (zipfile.BadZipFile, OSError, NotImplementedError, zlib.error, EOFError) as error:
        raise CorruptFile(f"{path.name}: 不是有效的 DOCX（zip 容器损坏：{error}）") from error


def _check_entries(path: Path, entries: list[zipfile.ZipInfo], bounds: WorkBounds) -> None:
    check_entries(path, entries, "DOCX")
    xml_total = 0
    for entry in entries:
        if entry.filename.lower().endswith(_XML_SUFFIXES):
            xml_total += entry.file_size
            if entry.file_size > bounds.docx_xml_part_bytes:
                raise UnsafeArchive(f"{path.name}: DOCX 条目 {entry.filename} 解压后 {entry.file_size / 2**20:.0f} MB，"
                                    f"超过每个 XML 部件 {bounds.docx_xml_part_bytes // 2**20} MB 的上限；请拆分文档后重试")
    if xml_total > bounds.docx_xml_bytes:
        raise UnsafeArchive(f"{path.name}: DOCX 的 XML 部件解压后共 {xml_total / 2**20:.0f} MB，超过 "
                            f"{bounds.docx_xml_bytes // 2**20} MB 上限；请拆分文档后重试")


def _check_xml_elements(path: Path, archive: zipfile.ZipFile, entries: list[zipfile.ZipInfo],
                        bounds: WorkBounds) -> None:
    """Count the elements (start tags) and paragraphs of the XML parts as they inflate; nothing
    is kept. python-docx expands no entities (lxml's resolve_entities=False), so tags are what it builds."""
    elements = paragraphs = 0
    for entry in entries:
        if not entry.filename.lower().endswith(_XML_SUFFIXES):
            continue
        with archive.open(entry) as stream:
            while chunk := stream.read(2**20):
                elements += chunk.count(b"<") - chunk.count(b"</")
                paragraphs += sum(chunk.count(b"<w:p" + end) for end in (b">", b" ", b"/"))
                if elements > bounds.docx_xml_elements or paragraphs > bounds.docx_paragraphs:
                    raise UnsafeArchive(f"{path.name}: DOCX 含有超过 {bounds.docx_xml_elements:,} 个 XML 元素或 "
                                        f"{bounds.docx_paragraphs:,} 个段落（超出可处理的上限），拒绝读取；请拆分文档后重试")


# What python-docx and zipfile raise on malformed files (found by fuzzing: tests/test_properties.py).
_MALFORMED = (PackageNotFoundError, KeyError, ValueError, OSError, EOFError, NotImplementedError,
              zipfile.BadZipFile, zlib.error, XMLSyntaxError)


def docx_blocks(path: Path, bounds: WorkBounds = WorkBounds()) -> tuple[tuple[str, ...], tuple[SourceTable, ...]]:
    """Paragraphs and table rows of the body in document order, and the body's data tables."""
    check_archive(path, bounds)
    try:
        document = docx.Document(str(path))
        body = _Body()
        body.add_content(document)
    except _MALFORMED as error:
        raise CorruptFile(f"{path.name}: 无法打开 DOCX（{error}）") from error
    return tuple(body.blocks), tuple(body.tables)


class _Body:
    """Blocks and tables collected from a block container (the document body or a layout cell)."""

    def __init__(self) -> None:
        self.blocks: list[str] = []
        self.tables: list[SourceTable] = []

    def add_content(self, container) -> None:
        for item in container.iter_inner_content():
            if isinstance(item, Table):
                self.add_table(item)
            elif text := item.text.strip(" \t\u3000\xa0"):
                self.blocks.extend(line.strip() for line in text.splitlines() if line.strip())

    def add_table(self, table: Table) -> None:
        cells = _cell_rows(table)
        texts: dict[int, str] = {}
        grid = tuple(tuple(texts.setdefault(id(cell._tc), _cell_text(cell)) if cell else "" for cell in row)
                     for row in cells)
        if tables.is_layout(grid):  # each cell once, merged or not, in reading order
            for cell in {id(cell._tc): cell for row in cells for cell in row if cell}.values():
                self.add_content(cell)
            return
        start = len(self.blocks)
        self.blocks.extend(text for row in grid if (text := tables.row_text(row)))
        if len(grid) * max(map(len, grid)) <= tables.MAX_TABLE_CELLS:
            self.tables.append(SourceTable(grid, start, len(self.blocks)))


def _cell_rows(table: Table) -> list[list[_Cell | None]]:
    """Each row's cells by grid column (a merged cell in every column and row it covers; None where a
    row starts late or ends early), padded to the widest row."""
    rows = [[None] * row.grid_cols_before + list(row.cells) for row in table.rows]
    width = max(map(len, rows), default=0)
    return [row + [None] * (width - len(row)) for row in rows]


def _cell_text(cell: _Cell) -> str:
    """A cell's paragraphs as lines; a table inside it as one line per row."""
    lines: list[str] = []
    for item in cell.iter_inner_content():
        if isinstance(item, Paragraph):
            lines += [line for raw in item.text.splitlines() if (line := raw.strip(" \t\u3000\xa0"))]
        else:
            lines += [text for row in _cell_rows(item) if (text := tables.row_text(
                [_cell_text(inner) if inner else "" for inner in row]))]
    return "\n".join(lines)
