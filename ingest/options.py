"""What reading a paged or converted file may cost: the page limit, the OCR resolution, the conversion
timeout, and a per-page progress callback (the command line draws it as a progress bar).

Text formats ignore these; PDF pages read by OCR, images, OFD and the LibreOffice conversions use them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

DEFAULT_MAX_PAGES = 300
DEFAULT_OCR_DPI = 150
DEFAULT_CONVERT_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class ReadOptions:
    max_pages: int = DEFAULT_MAX_PAGES  # pages one scan (OCR) or OFD may have
    ocr_dpi: int = DEFAULT_OCR_DPI  # resolution PDF pages are rasterised at for OCR
    convert_timeout_s: float = DEFAULT_CONVERT_TIMEOUT_S  # LibreOffice's time for one .doc/.wps/.rtf/.odt
    on_page: Callable[[int, int], None] | None = None  # (pages done, pages to do) while OCR runs
