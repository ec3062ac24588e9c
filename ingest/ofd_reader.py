"""OFD (GB/T 33190, the format of official electronic documents) to paragraphs, with ofdkit.

ofdkit (Apache-2.0, pure Python on the standard library's XML parser, no rendering stack) reads the
package and gives each page's text objects as runs placed in millimetres from the top left, with
page templates and transforms applied. easyofd (the other maintained reader) requires PyMuPDF, which
is AGPL, plus reportlab, fontTools and loguru at run time, so it was not taken; ofdkit reads the real
OFD in the shared corpus (a one-page 函) in reading order in about 10 ms.

Before ofdkit opens it, the zip is checked as a DOCX is (entries that would escape a folder, bombs),
and the page count is held to the page limit, so a crafted package is refused before its pages are
read. Runs on one baseline form a line, left to right; lines become paragraphs by the PDF reader's
rules (indentation, centred titles, running headers and page numbers dropped).
"""

from __future__ import annotations

import statistics
import zipfile
import zlib
from pathlib import Path

import ofdkit

from .archives import check_entries
from .errors import CorruptFile, UnsafeArchive
from .ocr import PlacedLine, check_page_count
from .options import ReadOptions
from .pdf_reader import lines_to_paragraphs

MAX_ENTRIES = 20_000


def ofd_blocks(path: Path, options: ReadOptions) -> tuple[str, ...]:
    """Paragraphs of an OFD file in reading order."""
    check_package(path)
    try:
        with ofdkit.open(str(path)) as document:
            pages = document.pages
            check_page_count(len(pages), options, path.name, "OFD 文件")
            lines = [line for page in pages for line in _page_lines(page)]
    except ofdkit.OFDLimitError as error:
        raise UnsafeArchive(f"{path.name}: OFD 超过安全上限（{error}），拒绝读取") from error
    except (ofdkit.OFDError, zipfile.BadZipFile, zlib.error, OSError, ValueError, KeyError, EOFError) as error:
        raise CorruptFile(f"{path.name}: 不是有效的 OFD 文件（{error}）") from error
    return tuple(lines_to_paragraphs(lines))


def check_package(path: Path) -> None:
    """Refuse zip bombs, too many entries and entries that would escape a folder, before any XML is parsed."""
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, NotImplementedError, ValueError) as error:
        raise CorruptFile(f"{path.name}: 不是有效的 OFD 文件（zip 容器损坏：{error}）") from error
    if len(entries) > MAX_ENTRIES:
        raise UnsafeArchive(f"{path.name}: OFD 内有 {len(entries)} 个条目，超过 {MAX_ENTRIES} 个上限，拒绝读取")
    check_entries(path, entries, "OFD")


def _page_lines(page) -> list[PlacedLine]:
    """A page's runs grouped by baseline into lines (millimetres; top as a share of the page height)."""
    runs = sorted((run for run in page.runs if run.text.strip()), key=lambda run: (run.y, run.x))
    if not runs:
        return []
    size = statistics.median(run.size for run in runs)
    groups: list[list] = []
    for run in runs:
        if groups and abs(run.y - groups[-1][0].y) < 0.4 * size:
            groups[-1].append(run)
        else:
            groups.append([run])
    height = page.height or 297.0
    return [_line(sorted(group, key=lambda run: run.x), page.index, height) for group in groups]


def _line(runs: list, page: int, height: float) -> PlacedLine:
    text, end = "", None
    for run in runs:
        text += (" " if end is not None and run.x - end > run.size else "") + run.text.strip()
        end = run.x + run.width
    top = (min(run.y - run.size for run in runs)) / height
    return PlacedLine(page, runs[0].x, max(run.x + run.width for run in runs), top, text, 1.0)
