"""PDF to paragraphs with pdfplumber, for documents printed in the official layout.

Steps: take each page's text lines with their positions; drop running headers and footers (lines in
the top or bottom band that repeat on most pages once digits are blanked, and 「— 3 —」 page
numbers); then join lines into paragraphs. A line starts a new paragraph when it is indented from
the text's left edge (official paragraphs start two characters in; centred titles do too) or when
the previous line ended short after closing punctuation, or a blank line's worth of space lies
between them (titles are set apart from the addressee line that way). Everything else is a wrapped line and is
joined without a space, also across a page break, so a parenthesis split over two lines or two
pages comes back whole.

Ruled tables (ingest/pdf_tables.py) are read as tables: their characters are not read as lines; each
row becomes a block at the table's place, and a table continued on the next page is one table. Each
page is checked against the work bounds of ingest/pdf_limits.py before pdfplumber builds its objects,
and its objects are released once it is read.

The decision to OCR is made per page: a page whose text layer is usable is read as text; a page
whose text layer is garbage (unmapped glyphs, mostly unreadable characters), or that has images or
curves (outlined glyphs) and no text of its own, is rasterised and OCR'd (`ocr.py`), and its lines
join the same paragraph rules, so mixed PDFs work. A page with neither text nor pictures is blank.
"""

from __future__ import annotations

import collections
import re
import statistics
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import pdfplumber
from pdfminer.pdfdocument import PDFPasswordIncorrect
from pdfminer.pdfparser import PDFSyntaxError
from pdfminer.psparser import PSException
from pdfplumber.utils.exceptions import MalformedPDFException, PdfminerException

from . import pdf_limits, pdf_tables
from .errors import CorruptFile, EncryptedFile, ScannedPDF, UnsafeArchive
from .ocr import PlacedLine, ocr_pdf_pages
from .options import ReadOptions, WorkBounds
from .pdf_tables import PageTable
from .records import SourceTable

PAGE_NUMBER = re.compile(r"^[-—–－－_\s]*(第\s*)?\d{1,4}\s*(页|/\s*\d+)?[-—–－_\s]*$")
_MARGIN_BAND = 0.09  # top and bottom share of the page where running headers and footers live
_CLOSING = tuple("。：:；;！!？?）)」』”")
# Limits on what the compressed streams of one PDF may inflate to (a page's text is kilobytes; a
# scanned page image some megabytes): beyond them the file is a decompression bomb.
MAX_STREAM_BYTES = 256 * 2**20
MAX_INFLATED_BYTES = 1024 * 2**20
_STREAM_START = re.compile(rb"(?<!end)stream\r?\n")
# A text layer is usable when at least half of its characters are readable ones (CJK, letters, digits,
# punctuation) and, on a page with images, at least this many; pdfminer writes unmapped glyphs as (cid:N).
_MIN_READABLE = 10
_READABLE = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffefA-Za-z0-9.,;:!?()%/\-“”‘’《》—…·]")
_UNMAPPED = re.compile(r"\(cid:\d+\)")


@dataclass(frozen=True)
class _Line:
    page: int
    x0: float
    x1: float
    top: float
    text: str


@dataclass(frozen=True)
class PdfText:
    blocks: tuple[str, ...]  # paragraphs and table rows in reading order
    tables: tuple[SourceTable, ...]
    ocr: tuple[PlacedLine, ...]  # the lines read by OCR, with their confidence; empty for a text PDF


def pdf_blocks(path: Path) -> tuple[tuple[str, ...], tuple[SourceTable, ...]]:
    """Paragraphs and table rows in reading order, and the tables."""
    text = read_pdf(path, ReadOptions())
    return text.blocks, text.tables


def read_pdf(path: Path, options: ReadOptions) -> PdfText:
    """Text pages read as text, the others OCR'd (within the options' page limit)."""
    check_inflation(path)
    items, scanned = _read_lines(path, options.bounds)
    recognised = ocr_pdf_pages(path, scanned, options) if scanned else []
    if not items and not recognised:
        found = "OCR 也未识别出文字（空白页、图形或噪点）" if scanned else "也没有可识别的图像"
        raise ScannedPDF(f"{path.name}: PDF 没有文字层，{found}；请提供清晰的扫描件或带文字层的 PDF")
    return assemble(items, recognised)


def assemble(items: list[_Line | PageTable], recognised: list[PlacedLine]) -> PdfText:
    """The text pages' lines and tables and the OCR'd lines, in page order, as paragraphs and tables."""
    ordered = sorted([*items, *map(_line, recognised)], key=lambda item: item.page)  # stable within a page
    blocks, tables = _join_paragraphs(_join_tables(_drop_running_lines(ordered)))
    return PdfText(blocks, tables, tuple(recognised))


def lines_to_paragraphs(lines: Sequence[PlacedLine]) -> tuple[str, ...]:
    """Running headers and page numbers dropped, lines joined into paragraphs (the rules above): for
    OCR'd images and OFD pages, whose lines carry the same positions."""
    return _join_paragraphs(_drop_running_lines([_line(line) for line in lines]))[0]


def _line(line: PlacedLine) -> _Line:
    return _Line(line.page, line.x0, line.x1, line.top, line.text)


def needs_ocr(texts: list[str], has_pictures: bool) -> bool:
    """A page whose text layer is garbage, or one with images or curves and no or too little text."""
    text = _UNMAPPED.sub("\ufffd", "".join(text for text in texts if not PAGE_NUMBER.match(text)))
    readable = len(_READABLE.findall(text))
    return readable < 0.5 * len(text) or readable < _MIN_READABLE and has_pictures


def check_inflation(path: Path) -> None:
    """Refuse a PDF whose Flate streams inflate beyond the limits, before pdfminer inflates them in memory.

    Every `stream` keyword is tried as the start of a zlib stream, inflated a megabyte at a time and
    only counted; data that is not zlib stops at its first bytes."""
    data, total = path.read_bytes(), 0
    for match in _STREAM_START.finditer(data):
        inflater, produced, position = zlib.decompressobj(), 0, match.end()
        try:
            while not inflater.eof and position < len(data):
                pending, position = data[position:position + 2**16], position + 2**16
                while pending:
                    produced += len(inflater.decompress(pending, 2**20))
                    pending = inflater.unconsumed_tail
                    if produced > MAX_STREAM_BYTES or total + produced > MAX_INFLATED_BYTES:
                        limit = MAX_STREAM_BYTES if produced > MAX_STREAM_BYTES else MAX_INFLATED_BYTES
                        raise UnsafeArchive(f"{path.name}: PDF 中的压缩数据解压后超过 {limit // 2**20} MB"
                                            "（疑似解压炸弹），拒绝读取")
        except zlib.error:
            pass
        total += produced


# What pdfminer and pdfplumber raise on malformed files besides their own exception types (found by
# fuzzing them with byte flips and truncations of good PDFs: tests/test_properties.py).
_MALFORMED = (PDFSyntaxError, PSException, MalformedPDFException, ValueError, KeyError, TypeError, IndexError,
              AttributeError, AssertionError, RecursionError, EOFError, struct.error, zlib.error)


def _read_lines(path: Path, bounds: WorkBounds) -> tuple[list[_Line | PageTable], list[int]]:
    """The lines and tables of the pages with a usable text layer, and the numbers of the pages to OCR."""
    try:
        with path.open("rb") as handle, pdfplumber.open(handle) as pdf:  # our handle: closed if open fails
            items: list[_Line | PageTable] = []
            scanned, budget = [], pdf_limits.ContentBudget(bounds)
            for number, page in enumerate(pdf.pages):
                pdf_limits.check_page(page.page_obj, number, pdf.rsrcmgr, budget, path.name)
                page_items = _page_items(page, number)
                pdf_limits.count_glyphs(len(page.chars), number, budget, path.name)
                texts = [text for item in page_items
                         for text in (item.row_texts if isinstance(item, PageTable) else (item.text,))]
                if needs_ocr(texts, bool(page.images or page.curves)):
                    scanned.append(number)
                else:
                    items += page_items
                page.close()  # its objects are no longer needed
    except PdfminerException as error:
        cause = error.args[0] if error.args else error
        if isinstance(cause, PDFPasswordIncorrect) or "password" in str(cause).lower():
            raise EncryptedFile(f"{path.name}: PDF 已加密（需要密码），请提供未加密的版本") from error
        raise CorruptFile(f"{path.name}: PDF 文件损坏或不完整（{cause}）") from error
    except _MALFORMED as error:
        raise CorruptFile(f"{path.name}: PDF 文件损坏或不完整（{error}）") from error
    return items, scanned


def _page_items(page, number: int) -> list[_Line | PageTable]:
    """A page's text lines and tables by their top; characters inside a table are the table's only."""
    height = float(page.height)
    found = pdf_tables.page_tables(page, number)
    text_page = page.filter(lambda obj: obj.get("object_type") != "char" or not any(
        table.holds(obj) for table in found)) if found else page
    lines: list[_Line | PageTable] = [_Line(number, line["x0"], line["x1"], line["top"] / height, text)
                                      for line in text_page.extract_text_lines(strip=True, return_chars=False)
                                      if (text := line["text"].strip())]
    return sorted([*found, *lines], key=lambda item: item.top) if found else lines


def _drop_running_lines(items: list[_Line | PageTable]) -> list[_Line | PageTable]:
    """Running headers, footers and page numbers: lines in the page's margin bands, or among the first
    and last two lines of their page (conversions set footers well inside the page: 「- 3 -」 at 86 %)."""
    lines = [item for item in items if isinstance(item, _Line)]
    pages = len({line.page for line in lines})
    edge: set[int] = set()
    by_page: dict[int, list[int]] = collections.defaultdict(list)
    for index, line in enumerate(lines):
        by_page[line.page].append(index)
    for indices in by_page.values():
        edge.update(indices[:2] + indices[-2:])
    in_band = [line for index, line in enumerate(lines)
               if line.top < _MARGIN_BAND or line.top > 1 - _MARGIN_BAND or index in edge]
    shapes = collections.Counter(set((line.page, _shape(line)) for line in in_band))
    shapes = collections.Counter(shape for _, shape in shapes)
    repeated = {shape for shape, count in shapes.items() if pages >= 2 and count >= max(2, pages // 2)}

    # On a page whose band already holds a running line, an edge line of the same shape is text (a first
    # page that repeats its running header as the title line below it).
    in_the_band = {(line.page, _shape(line)) for line in lines
                   if line.top < _MARGIN_BAND or line.top > 1 - _MARGIN_BAND}

    def running(index: int, line: _Line) -> bool:
        banded = line.top < _MARGIN_BAND or line.top > 1 - _MARGIN_BAND
        if not (banded or index in edge):
            return False
        if PAGE_NUMBER.match(line.text):
            return True
        return _shape(line) in repeated and (banded or (line.page, _shape(line)) not in in_the_band)

    position = {id(line): index for index, line in enumerate(lines)}
    return [item for item in items if not isinstance(item, _Line) or not running(position[id(item)], item)]


def _join_tables(items: list[_Line | PageTable]) -> list[_Line | PageTable]:
    """Tables that continue on the next page, with nothing but running lines between, made one."""
    joined: list[_Line | PageTable] = []
    for item in items:
        previous = joined[-1] if joined else None
        if isinstance(item, PageTable) and isinstance(previous, PageTable) and (
                whole := pdf_tables.join_continued(previous, item)) is not None:
            joined[-1] = whole
        else:
            joined.append(item)
    return joined


def _shape(line: _Line) -> tuple[str, bool]:
    """A line with its digits blanked, and whether it sits in the top half: what running lines share."""
    return re.sub(r"\d+", "#", line.text), line.top < 0.5


def _join_paragraphs(items: list[_Line | PageTable]) -> tuple[tuple[str, ...], tuple[SourceTable, ...]]:
    lines = [item for item in items if isinstance(item, _Line)] or [_Line(0, 0.0, 1.0, 0.0, " ")]
    left = statistics.median_low(sorted(round(line.x0) for line in lines))
    right = statistics.median_high(sorted(round(line.x1) for line in lines))
    char_width = statistics.median((line.x1 - line.x0) / max(len(line.text), 1) for line in lines)
    steps = [b.top - a.top for a, b in zip(lines, lines[1:]) if a.page == b.page and b.top > a.top]
    line_step = statistics.median(steps) if steps else 1.0
    paragraphs: list[str] = []
    found: list[SourceTable] = []
    previous: _Line | None = None
    for line in items:
        if isinstance(line, PageTable):  # its rows are blocks of their own
            start = len(paragraphs)
            paragraphs += [text for text in line.row_texts if text]
            found.append(SourceTable(line.rows, start, len(paragraphs)))
            previous = None
            continue
        indented = line.x0 > left + 0.6 * char_width
        ended = previous is not None and previous.x1 < right - 2 * char_width and previous.text.endswith(_CLOSING)
        centred = previous is not None and previous.x0 > left + 2.5 * char_width and previous.x1 < right - 2 * char_width
        spaced = previous is not None and previous.page == line.page and line.top - previous.top > 1.5 * line_step
        if previous is None or indented or ended or centred or spaced:
            paragraphs.append(line.text)
        else:
            paragraphs[-1] += line.text
        previous = line
    return tuple(paragraphs), tuple(found)
