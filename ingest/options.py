"""What reading a file may cost: the page limit, the OCR resolution, the conversion timeout, the work
bounds of PDF and DOCX reading (issue 12), and a per-page progress callback (the command line draws
it as a progress bar).

Text formats ignore these; PDF pages read by OCR, images, OFD and the LibreOffice conversions use the
page options; PDF and DOCX reading the bounds. `policykb serve` sets them from its Settings
(POLICYKB_MAX_PAGES, POLICYKB_PDF_MAX_PAGE_GLYPHS, …), the command line from its options.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable

DEFAULT_MAX_PAGES = 300
DEFAULT_OCR_DPI = 150
DEFAULT_OCR_THREADS = max(1, min(4, os.cpu_count() or 1))  # pages OCR'd at once, one core each
DEFAULT_CONVERT_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class WorkBounds:
    """What one PDF or DOCX may cost to read; over a bound the file is refused, naming the page or part."""

    pdf_page_content_bytes: int = 16 * 2**20  # one page's inflated content, forms counted as often as drawn
    pdf_content_bytes: int = 64 * 2**20  # the same, all pages together
    pdf_page_glyphs: int = 100_000  # a dense A4 page has ~3,000; an A3 table in 6 pt type ~20,000
    pdf_glyphs: int = 1_000_000  # all pages (~400 dense pages; pdfplumber reads ~20,000 a second)
    pdf_page_objects: int = 100_000  # paths and images one page paints
    docx_xml_part_bytes: int = 32 * 2**20  # one XML part, uncompressed (a 1,000-page document is ~10 MB)
    docx_xml_bytes: int = 64 * 2**20  # all XML parts together
    docx_xml_elements: int = 1_000_000  # elements in all XML parts (a 300-page document has ~200,000)
    docx_paragraphs: int = 50_000  # <w:p> in all XML parts (python-docx reads ~10,000 a second)


@dataclass(frozen=True)
class ReadOptions:
    max_pages: int = DEFAULT_MAX_PAGES  # pages one scan (OCR) or OFD may have
    ocr_dpi: int = DEFAULT_OCR_DPI  # resolution PDF pages are rasterised at for OCR
    ocr_threads: int = DEFAULT_OCR_THREADS  # pages recognised at once (each on one core)
    convert_timeout_s: float = DEFAULT_CONVERT_TIMEOUT_S  # LibreOffice's time for one .doc/.wps/.rtf/.odt
    on_page: Callable[[int, int], None] | None = None  # (pages done, pages to do) while OCR runs
    bounds: WorkBounds = WorkBounds()
