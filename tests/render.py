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
    if re.search(r"(文件|的通知|〔\d{4}〕\d+号|签发人：\S+)$", block) and len(block) < 60:
        return "centre"  # a 公文's masthead, notice title and 文号 line
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


def render_scan(pdf_path: Path, path: Path, dpi: int = 150, seal_page: int = 0) -> Path:
    """A scan of a rendered PDF: each page rasterised at `dpi` (pdfium), turned by ±1°, blurred, speckled
    and saved as JPEG, with a red seal stamped over the signature block of `seal_page`; the pages are put
    into an image-only PDF of the same page size."""
    import io

    import numpy as np
    import pypdfium2
    from PIL import Image, ImageChops, ImageFilter
    from reportlab.lib.utils import ImageReader

    document = pypdfium2.PdfDocument(str(pdf_path))
    pdf = canvas.Canvas(str(path), pagesize=A4)
    noise = np.random.default_rng(150)
    for number in range(len(document)):
        page = document[number].render(scale=dpi / 72).to_pil().convert("RGB")
        if number == seal_page:
            page = ImageChops.multiply(page, _seal(page.size, dpi))
        page = page.rotate(1.0 if number % 2 else -1.0, resample=Image.BICUBIC, fillcolor="white")
        page = page.filter(ImageFilter.GaussianBlur(0.7))
        pixels = np.asarray(page).copy()
        specks = noise.random(pixels.shape[:2]) < 0.003
        pixels[specks] = noise.integers(0, 140, (int(specks.sum()), 1))
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, format="JPEG", quality=70)
        pdf.drawImage(ImageReader(io.BytesIO(buffer.getvalue())), 0, 0, *A4)
        pdf.showPage()
    document.close()
    pdf.save()
    return path


def _seal(size: tuple[int, int], dpi: int):
    """A red round seal (ring, star, the issuer's name) on white, to multiply over a page's signature block."""
    from PIL import Image, ImageDraw, ImageFont

    seal = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(seal)
    radius, (x, y) = int(0.8 * dpi), (int(size[0] * 0.62), int(size[1] * 0.73))
    red = (215, 30, 35)
    draw.ellipse((x - radius, y - radius, x + radius, y + radius), outline=red, width=max(3, dpi // 30))
    draw.regular_polygon((x, y, radius // 4), 5, fill=red)
    if Path(CJK_FONT_FILES[0]).exists():
        font = ImageFont.truetype(CJK_FONT_FILES[0], dpi // 6)
        draw.text((x, y - radius // 2), "武汉市生态环境局", fill=red, font=font, anchor="mm")
        draw.text((x, y + radius // 2), "公章", fill=red, font=font, anchor="mm")
    return seal


def render_ofd(pdf_path: Path, path: Path) -> Path:
    """The same pages as an OFD package (GB/T 33190): every text line of the PDF (pdfplumber) becomes a
    TextObject at the same place, in millimetres, with its characters' advances as DeltaX."""
    import zipfile
    from xml.sax.saxutils import escape

    import pdfplumber

    millimetres = 25.4 / 72
    namespace = 'xmlns:ofd="http://www.ofdspec.org/2016"'
    pages = []
    with pdfplumber.open(pdf_path) as pdf:
        for page in pdf.pages:
            objects = []
            for index, line in enumerate(page.extract_text_lines(return_chars=True, strip=True)):
                chars = [char for char in line["chars"] if char["text"].strip()]
                if not chars:
                    continue
                size = chars[0]["size"] * millimetres
                x0, top = chars[0]["x0"] * millimetres, chars[0]["top"] * millimetres
                deltas = " ".join(f"{(b['x0'] - a['x0']) * millimetres:.3f}" for a, b in zip(chars, chars[1:]))
                width = (chars[-1]["x1"] - chars[0]["x0"]) * millimetres
                text = escape("".join(char["text"] for char in chars))
                objects.append(f'<ofd:TextObject ID="{len(pages) * 1000 + index + 10}" Font="2" Size="{size:.3f}" '
                               f'Boundary="{x0:.3f} {top:.3f} {width + size:.3f} {size * 1.2:.3f}">'
                               f'<ofd:TextCode X="0" Y="{size:.3f}"'
                               + (f' DeltaX="{deltas}"' if deltas else "") + f">{text}</ofd:TextCode></ofd:TextObject>")
            pages.append(f'<?xml version="1.0" encoding="UTF-8"?><ofd:Page {namespace}><ofd:Content><ofd:Layer ID="3">'
                         + "".join(objects) + "</ofd:Layer></ofd:Content></ofd:Page>")
    width_mm, height_mm = A4[0] * millimetres, A4[1] * millimetres
    page_list = "".join(f'<ofd:Page ID="{100 + n}" BaseLoc="Pages/Page_{n}/Content.xml"/>' for n in range(len(pages)))
    document_xml = (f'<?xml version="1.0" encoding="UTF-8"?><ofd:Document {namespace}><ofd:CommonData>'
                    f'<ofd:PageArea><ofd:PhysicalBox>0 0 {width_mm:.2f} {height_mm:.2f}</ofd:PhysicalBox></ofd:PageArea>'
                    '<ofd:MaxUnitID>99999</ofd:MaxUnitID><ofd:PublicRes>PublicRes.xml</ofd:PublicRes></ofd:CommonData>'
                    f"<ofd:Pages>{page_list}</ofd:Pages></ofd:Document>")
    public = (f'<?xml version="1.0" encoding="UTF-8"?><ofd:Res {namespace} BaseLoc="Res"><ofd:Fonts>'
              '<ofd:Font ID="2" FontName="宋体" FamilyName="宋体"/></ofd:Fonts></ofd:Res>')
    root = (f'<?xml version="1.0" encoding="UTF-8"?><ofd:OFD {namespace} Version="1.0" DocType="OFD"><ofd:DocBody>'
            "<ofd:DocInfo><ofd:DocID>policykb-fixture</ofd:DocID></ofd:DocInfo>"
            "<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("OFD.xml", root)
        archive.writestr("Doc_0/Document.xml", document_xml)
        archive.writestr("Doc_0/PublicRes.xml", public)
        for number, page_xml in enumerate(pages):
            archive.writestr(f"Doc_0/Pages/Page_{number}/Content.xml", page_xml)
    return path


def convert_with_libreoffice(source: Path, suffix: str, folder: Path) -> Path:
    """`source` converted by LibreOffice to `suffix` (doc, odt, rtf) in `folder`, with a private profile."""
    import shutil
    import subprocess

    command = shutil.which("soffice")
    assert command, "LibreOffice (soffice) is needed to make this fixture"
    folder.mkdir(parents=True, exist_ok=True)
    filters = {"doc": "doc:MS Word 97", "odt": "odt", "rtf": "rtf"}
    subprocess.run([command, f"-env:UserInstallation={(folder / 'profile').as_uri()}", "--headless", "--norestore",
                    "--convert-to", filters[suffix], "--outdir", str(folder), str(source)],
                   check=True, capture_output=True, timeout=180)
    return folder / f"{source.stem}.{suffix}"
