"""OCR of page images with RapidOCR: PP-OCR text detection and recognition on onnxruntime, the models
inside the rapidocr wheel (nothing is downloaded; both packages are pinned).

A page image becomes lines in four steps:
  1. red ink is taken out: the red channel is the grey image, so a seal or stamp printed over text
     turns white while the black text under it stays (the red masthead goes with it);
  2. RapidOCR finds text boxes and reads each, with a confidence; boxes below `MIN_CONFIDENCE` are dropped;
  3. the page's skew (the median slope of the long boxes) is turned back, so a scan rotated by a degree
     keeps its left margin straight and indentation means the same thing on every line;
  4. boxes whose vertical centres lie within half a line of each other form one line, left to right.
Lines come out in points (1/72 inch) with `top` as a share of the page height, the units the PDF
reader's paragraph rules work in, so OCR'd and text pages of one PDF are joined by the same rules.

Images are bounded before they are decoded (`MAX_IMAGE_PIXELS`), PDF pages are rasterised by pdfium
at the configured resolution (lower for oversized pages, to stay within the same bound).
"""

from __future__ import annotations

import logging
import math
import re
import statistics
import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image

from .errors import CorruptFile, TooManyPages, UnsafeArchive
from .options import ReadOptions

logger = logging.getLogger(__name__)
MAX_IMAGE_PIXELS = 80_000_000  # A3 at 600 dpi is 70 million; below PIL's own bomb warning (89 million)
MIN_CONFIDENCE = 0.5
# RapidOCR settings: no 180° classifier (scans are upright); detection on the page scaled to 960 px
# on its long side (150 dpi A4 is 1754), which reads 16 pt official type as well as full size at a
# third of the time; recognition one line at a time on one thread, which halves the CPU time of a
# page against the defaults (batches of 6 lines padded to the longest, a thread per core): 3.2
# against 6.2 CPU seconds for a seed page, measured with eval/ocr_bench.py's pages. The cores are
# used by recognising `ReadOptions.ocr_threads` pages at once instead.
_ENGINE_PARAMS = {"Global.log_level": "critical", "Global.use_cls": False, "Global.text_score": MIN_CONFIDENCE,
                  "Det.limit_side_len": 960, "Det.limit_type": "max", "Rec.rec_batch_num": 1,
                  "EngineConfig.onnxruntime.intra_op_num_threads": 1,
                  "EngineConfig.onnxruntime.inter_op_num_threads": 1}
# 「— 3 —」 read as 「一3一」 or 「-3-」: dashes around a page number are dashes.
_FOOTER = re.compile(r"^[-—–一－_~\s]+\d{1,4}[-—–一－_~\s]+$")
_ASCII_END = re.compile(r"[A-Za-z0-9]$")
_ASCII_START = re.compile(r"^[A-Za-z0-9]")


@dataclass(frozen=True)
class PlacedLine:
    """A line read by OCR: page (0-based), horizontal extent in points, top as a share of the page height."""

    page: int
    x0: float
    x1: float
    top: float
    text: str
    confidence: float  # the recognition scores of its boxes, weighted by their length


_engines = threading.local()


def _engine():
    """This thread's RapidOCR (loaded when a page first needs OCR). One per thread: onnxruntime runs a
    session without the GIL, so pages recognised in two threads use two cores."""
    if not hasattr(_engines, "engine"):
        from rapidocr import RapidOCR

        logger.info("loading RapidOCR (%s)", _ENGINE_PARAMS)
        _engines.engine = RapidOCR(params=_ENGINE_PARAMS)
    return _engines.engine


def ocr_page(image: Image.Image, page: int, dpi: float) -> list[PlacedLine]:
    """The lines of one page image scanned at `dpi`."""
    grey = np.asarray(image.convert("RGB"))[:, :, 0]  # red ink (seals, stamps) turns white
    result = _engine()(np.ascontiguousarray(np.repeat(grey[:, :, None], 3, axis=2)))
    if result.boxes is None or not result.txts:
        return []
    boxes = [np.asarray(box, dtype=float) for box in result.boxes]
    return _lines(boxes, list(result.txts), [float(score) for score in result.scores], page, image.size, 72.0 / dpi)


def _lines(boxes: list[np.ndarray], texts: list[str], scores: list[float], page: int, size: tuple[int, int],
           points_per_pixel: float) -> list[PlacedLine]:
    width, height = size
    boxes = _deskewed(boxes, (width / 2, height / 2))
    items = sorted((box[:, 1].mean(), box[:, 0].min(), box[:, 0].max(), box[:, 1].min(), box[:, 1].max(), text, score)
                   for box, text, score in zip(boxes, texts, scores) if text.strip() and score >= MIN_CONFIDENCE)
    if not items:
        return []
    line_height = statistics.median(bottom - top for _, _, _, top, bottom, _, _ in items)
    groups: list[list[tuple]] = []
    for item in items:
        if groups and item[0] - statistics.fmean(member[0] for member in groups[-1]) < 0.5 * line_height:
            groups[-1].append(item)
        else:
            groups.append([item])
    return [_placed(sorted(group, key=lambda member: member[1]), page, height, points_per_pixel, line_height)
            for group in groups]


def _placed(group: list[tuple], page: int, height: int, points_per_pixel: float, line_height: float) -> PlacedLine:
    text, previous_end = "", None
    for _, x0, x1, _, _, piece, _ in group:
        piece = piece.strip()
        gap = 0.0 if previous_end is None else x0 - previous_end
        ascii_pair = bool(_ASCII_END.search(text) and _ASCII_START.match(piece))
        text += (" " if text and (gap > line_height or ascii_pair and gap > 0.3 * line_height) else "") + piece
        previous_end = x1
    if _FOOTER.match(text):
        text = text.replace("一", "—")
    weights = [len(member[5]) for member in group]
    confidence = sum(member[6] * weight for member, weight in zip(group, weights)) / max(sum(weights), 1)
    top = min(member[3] for member in group)
    return PlacedLine(page, group[0][1] * points_per_pixel, max(member[2] for member in group) * points_per_pixel,
                      top / height, text, round(confidence, 4))


def _deskewed(boxes: list[np.ndarray], centre: tuple[float, float]) -> list[np.ndarray]:
    """Boxes rotated back by the page's skew: the median slope of the top edges of wide boxes."""
    slopes = [math.atan2(box[1, 1] - box[0, 1], box[1, 0] - box[0, 0]) for box in boxes
              if box[1, 0] - box[0, 0] > 4 * max(box[3, 1] - box[0, 1], 1.0)]
    angle = statistics.median(slopes) if slopes else 0.0
    if abs(angle) < 1e-4:
        return boxes
    cos, sin = math.cos(-angle), math.sin(-angle)
    rotation = np.array([[cos, -sin], [sin, cos]])
    origin = np.asarray(centre)
    return [(box - origin) @ rotation.T + origin for box in boxes]


def check_pixels(width: int, height: int, name: str) -> None:
    if width * height > MAX_IMAGE_PIXELS:
        raise UnsafeArchive(f"{name}: 图像 {width}×{height} 像素，超过 {MAX_IMAGE_PIXELS // 10**6} 百万像素上限"
                            "（疑似解压炸弹），拒绝读取")


def check_page_count(count: int, options: ReadOptions, name: str, what: str = "需要 OCR 的页面") -> None:
    if count > options.max_pages:
        raise TooManyPages(f"{name}: {what}有 {count} 页，超过上限 {options.max_pages} 页；请拆分文件，"
                           "或调大页数上限（命令行 --max-pages，服务 POLICYKB_MAX_PAGES）")


def ocr_pdf_pages(path: Path, pages: Sequence[int], options: ReadOptions) -> list[PlacedLine]:
    """OCR the given pages (0-based) of a PDF, rasterised by pdfium; reports progress per page."""
    import pypdfium2

    check_page_count(len(pages), options, path.name)
    lines: list[PlacedLine] = []
    try:
        document = pypdfium2.PdfDocument(str(path))
    except pypdfium2.PdfiumError as error:
        raise CorruptFile(f"{path.name}: PDF 页面无法渲染（{error}）") from error
    threads = max(1, min(options.ocr_threads, len(pages)))
    # pdfium is not thread-safe: pages are rendered here in turn, recognised by `threads` workers, with
    # at most one rendered page waiting per worker (memory stays a few pages' worth).
    pending: deque[Future[list[PlacedLine]]] = deque()
    done = 0
    try:
        with ThreadPoolExecutor(threads, thread_name_prefix="policykb-ocr") as pool:
            for number in pages:
                image, dpi = _render(document[number], options.ocr_dpi)
                pending.append(pool.submit(ocr_page, image, number, dpi))
                while len(pending) > threads or (pending and pending[0].done()):
                    lines += pending.popleft().result()
                    done += 1
                    if options.on_page:
                        options.on_page(done, len(pages))
            while pending:
                lines += pending.popleft().result()
                done += 1
                if options.on_page:
                    options.on_page(done, len(pages))
    finally:
        for future in pending:
            future.cancel()
        document.close()
    return lines


def _render(page, ocr_dpi: int) -> tuple[Image.Image, float]:
    """The page as an image at `ocr_dpi`, or less where that would pass MAX_IMAGE_PIXELS; (image, dpi)."""
    width, height = page.get_size()
    dpi = min(float(ocr_dpi), 72.0 * math.sqrt(MAX_IMAGE_PIXELS / max(width * height, 1.0)))
    return page.render(scale=dpi / 72.0).to_pil(), dpi


def page_ranges(pages: Sequence[int]) -> str:
    """0-based page numbers as printed 1-based ranges: [0, 1, 2, 5] → 「1-3, 6」."""
    ranges: list[list[int]] = []
    for number in sorted(set(pages)):
        if ranges and number == ranges[-1][1] + 1:
            ranges[-1][1] = number
        else:
            ranges.append([number, number])
    return ", ".join(f"{a + 1}" if a == b else f"{a + 1}-{b + 1}" for a, b in ranges)
