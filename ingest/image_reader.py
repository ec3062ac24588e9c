"""Images (.png .jpg .jpeg .tif .tiff .bmp) to paragraphs by OCR; a multi-page TIFF is a scan of many pages.

The size is checked from the header before a pixel is decoded (`ocr.MAX_IMAGE_PIXELS`, and PIL's own
decompression-bomb check turned into an error), the page count against the page limit.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from .errors import CorruptFile, ScannedPDF, UnsafeArchive
from .ocr import PlacedLine, check_page_count, check_pixels, ocr_page
from .options import ReadOptions
from .pdf_reader import lines_to_paragraphs

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")
_DECODE_ERRORS = (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, KeyError, IndexError,
                  TypeError, ZeroDivisionError)


def read_image(path: Path, options: ReadOptions) -> tuple[tuple[str, ...], tuple[PlacedLine, ...]]:
    """(paragraphs, the OCR'd lines with their confidence) of an image file."""
    lines: list[PlacedLine] = []
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(path) as image:
                pages = getattr(image, "n_frames", 1)
                check_page_count(pages, options, path.name, "图像")
                for page in range(pages):
                    image.seek(page)
                    check_pixels(image.width, image.height, path.name)
                    lines += ocr_page(image.convert("RGB"), page, _dpi(image, options))
                    if options.on_page:
                        options.on_page(page + 1, pages)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
            raise UnsafeArchive(f"{path.name}: 图像像素数超过上限（疑似解压炸弹：{error}），拒绝读取") from error
        except _DECODE_ERRORS as error:
            raise CorruptFile(f"{path.name}: 图像文件损坏或格式不对（{error}）") from error
    if not lines:
        raise ScannedPDF(f"{path.name}: 图像中 OCR 未识别出文字（空白、噪点或字迹太小）；请提供清晰的扫描件")
    return tuple(lines_to_paragraphs(lines)), tuple(lines)


def _dpi(image: Image.Image, options: ReadOptions) -> float:
    """The resolution the image says it was scanned at, when plausible; else the OCR resolution."""
    dpi = image.info.get("dpi", (0, 0))[0]
    try:
        return float(dpi) if 50 <= float(dpi) <= 2400 else float(options.ocr_dpi)
    except (TypeError, ValueError):
        return float(options.ocr_dpi)
