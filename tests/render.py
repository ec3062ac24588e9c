"""Render test fixtures: a plan as an official-style PDF (reportlab) and as a DOCX (python-docx).

The PDF imitates a printed government document: A4, 16 pt type, 28 characters a line set by width
(lines break mid-word), paragraphs indented two characters, titles centred, signature and date set
right, a running header on every page and 「— n —」 page numbers at the foot.
"""

from __future__ import annotations

import re
from pathlib import Path

import docx
from docx.enum.text import WD_ALIGN_PARAGRAPH
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

CJK_FONT_FILES = ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",)
_HALF_TO_FULL = str.maketrans({",": "，", "(": "（", ")": "）", ":": "：", ";": "；", "?": "？", "!": "！"})


def official_punctuation(text: str) -> str:
    """Full-width punctuation as printed documents use it (digits and decimal points stay)."""
    return text.translate(_HALF_TO_FULL)


def cjk_font() -> str:
    """An embedded TrueType CJK font from Debian's fonts-wqy-microhei, else reportlab's CID STSong."""
    for path in CJK_FONT_FILES:
        if Path(path).exists():
            if "WQY" not in pdfmetrics.getRegisteredFontNames():
                pdfmetrics.registerFont(TTFont("WQY", path, subfontIndex=0))
            return "WQY"
    if "STSong-Light" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    return "STSong-Light"


def layout_of(block: str) -> str:
    """centre | right | flush | indent: how an official document sets this paragraph."""
    if block.startswith("《") and block.endswith("》") or block.endswith("实施方案") and len(block) < 30:
        return "centre"
    if re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日", block) or re.fullmatch(r"(\S+(局|会)\s*){2}", block):
        return "right"
    if block.endswith(("：", ":")) and len(block) < 40:
        return "flush"
    return "indent"


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    lines, current, used = [], "", 0.0
    for char in text:
        advance = pdfmetrics.stringWidth(char, font, size)
        if used + advance > width + 0.01 and current:
            lines.append(current)
            current, used = "", 0.0
        current += char
        used += advance
    return lines + [current] if current else lines


def render_official_pdf(blocks: list[str], path: Path, running_header: str) -> Path:
    font, size = cjk_font(), 16.0
    page_width, page_height = A4
    width = 28 * size
    left = (page_width - width) / 2
    top, bottom, leading = page_height - 110, 100, size * 1.75
    pdf = canvas.Canvas(str(path), pagesize=A4)
    page, y = 1, top

    def decorate() -> None:
        pdf.setFont(font, 10.5)
        pdf.drawCentredString(page_width / 2, page_height - 60, running_header)
        pdf.setFont(font, 14)
        pdf.drawCentredString(page_width / 2, 55, f"— {page} —")
        pdf.setFont(font, size)

    decorate()
    for block in blocks:
        layout = layout_of(block)
        indent = 2 * size if layout == "indent" else 0.0
        first, *rest = _wrap(block, font, size, width - indent) or [""]
        for index, line in enumerate([first, *_wrap("".join(rest), font, size, width)]):
            if y < bottom:
                pdf.showPage()
                page, y = page + 1, top
                decorate()
            if layout == "centre":
                pdf.drawCentredString(page_width / 2, y, line)
            elif layout == "right":
                pdf.drawRightString(left + width - 2 * size, y, line)
            else:
                pdf.drawString(left + (indent if index == 0 else 0), y, line)
            y -= leading
        if layout == "centre":
            y -= leading  # a blank line after a title, as official documents set it
    pdf.showPage()
    pdf.save()
    return path


def render_docx(blocks: list[str], path: Path, running_header: str) -> Path:
    document = docx.Document()
    document.sections[0].header.paragraphs[0].text = running_header
    for block in blocks:
        paragraph = document.add_paragraph(block)
        layout = layout_of(block)
        if layout == "centre":
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        elif layout == "right":
            paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    document.save(str(path))
    return path


def render_table_pdf(before: list[str], table: list[list[str | None]], path: Path, widths: list[float],
                     after: list[str] = (), repeat_header: bool = True, rows_on_first_page: int = 99) -> Path:
    """Paragraphs, then a ruled table (first row the header; None: the cell above continues, merged),
    broken onto the next page after `rows_on_first_page` rows with its header repeated, then paragraphs.
    Cell text wraps at the column width; "\n" in a cell starts a new line."""
    font, size, leading, pad = cjk_font(), 12.0, 16.0, 4.0
    page_width, page_height = A4
    left, top = 70.0, page_height - 80
    pdf = canvas.Canvas(str(path), pagesize=A4)
    pdf.setFont(font, size)
    y = top

    def paragraph(text: str) -> None:
        nonlocal y
        for line in _wrap(text, font, size, sum(widths)):
            pdf.drawString(left, y, line)
            y -= leading * 1.5

    def row(cells: list[str | None], first: bool) -> None:
        nonlocal y
        wrapped = [[line for part in (cell or "").split("\n") for line in _wrap(part, font, size, width - 2 * pad)]
                   for cell, width in zip(cells, widths)]
        height = max(len(lines) for lines in wrapped) * leading + 2 * pad
        x = left
        for cell, lines, width in zip(cells, wrapped, widths):
            if first or cell is not None:
                pdf.line(x, y, x + width, y)  # the top edge, absent where the cell above continues
            for number, line in enumerate(lines):
                pdf.drawString(x + pad, y - pad - size - number * leading, line)
            x += width
        edges = [left + sum(widths[:index]) for index in range(len(widths) + 1)]
        for edge in edges:
            pdf.line(edge, y, edge, y - height)
        y -= height

    def close_table() -> None:
        pdf.line(left, y, left + sum(widths), y)

    for text in before:
        paragraph(text)
    header, *body = table
    row(header, True)
    for number, cells in enumerate(body):
        if number == rows_on_first_page:
            close_table()
            pdf.showPage()
            pdf.setFont(font, size)
            y = top
            if repeat_header:
                row(header, True)
            row([cell or "" for cell in cells], True)
            continue
        row(cells, False)
    close_table()
    y -= leading
    for text in after:
        paragraph(text)
    pdf.showPage()
    pdf.save()
    return path
