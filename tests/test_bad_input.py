"""Bad input through the CLI: a one-line error naming the file and the reason, exit 1, nothing written."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from conftest import SEED
from index import Store
from render import cjk_font, render_docx
from search_api.cli import main


def text_pdf(path: Path, **options) -> Path:
    pdf = canvas.Canvas(str(path), pagesize=A4, **options)
    pdf.setFont(cjk_font(), 16)
    pdf.drawString(80, 700, "国务院关于印发某某实施方案的通知")
    pdf.drawString(80, 670, "一、总体要求")
    pdf.save()
    return path


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


def zip_bomb_docx(path: Path) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w") as entry:
            for _ in range(40):
                entry.write(b"\0" * 2**20)
    return path


def traversal_docx(path: Path, tmp_path: Path) -> Path:
    render_docx(["一、总体要求", "正文。"], tmp_path / "base.docx", "页眉")
    with zipfile.ZipFile(tmp_path / "base.docx") as source, zipfile.ZipFile(path, "w") as target:
        for item in source.infolist():
            target.writestr(item, source.read(item))
        target.writestr("../../evil.txt", "escaped")
    return path


def sparse_200_mb(path: Path) -> Path:
    with path.open("wb") as handle:
        handle.truncate(200 * 2**20)
    return path


def make_bad_file(kind: str, tmp_path: Path) -> Path:
    folder = tmp_path / "input"
    folder.mkdir(exist_ok=True)
    makers = {
        "unsupported.exe": lambda p: p.write_bytes(b"MZ\x90\x00binary"),
        "old_word.doc": lambda p: p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512),
        "empty.txt": lambda p: p.write_bytes(b""),
        "blank.txt": lambda p: p.write_text(" \n\u3000\n\n", encoding="utf-8"),
        "encrypted.pdf": lambda p: text_pdf(p, encrypt="secret"),
        "truncated.pdf": lambda p: p.write_bytes(text_pdf(tmp_path / "whole.pdf").read_bytes()[:400]),
        "garbage.pdf": lambda p: p.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 20),
        "scanned.pdf": scanned_pdf,
        "bomb.docx": zip_bomb_docx,
        "traversal.docx": lambda p: traversal_docx(p, tmp_path),
        "not_a_zip.docx": lambda p: p.write_bytes(b"PK\x03\x04 this is not really a zip"),
        "undecodable.txt": lambda p: p.write_bytes(bytes([0x81, 0xFF, 0xFE, 0x80, 0x00, 0xC3]) * 300),
        "huge.txt": sparse_200_mb,
        "script_only.html": lambda p: p.write_text("<html><script>alert(1)</script><nav>首页</nav></html>"),
    }
    path = folder / kind
    makers[kind](path)
    return path


REASONS = {
    "unsupported.exe": "不支持的文件类型", "old_word.doc": "另存为 .docx", "empty.txt": "空文件",
    "blank.txt": "没有可读的正文", "encrypted.pdf": "已加密", "truncated.pdf": "损坏", "garbage.pdf": "损坏",
    "scanned.pdf": "扫描件，需要 OCR", "bomb.docx": "zip 炸弹", "traversal.docx": "越界路径",
    "not_a_zip.docx": "不是有效的 DOCX", "undecodable.txt": "编码", "huge.txt": "超过上限",
    "script_only.html": "没有可读的正文",
}


@pytest.mark.parametrize("kind", sorted(REASONS))
def test_bad_file_is_reported_and_nothing_is_written(kind, tmp_path, capsys):
    path = make_bad_file(kind, tmp_path)
    home = tmp_path / "home"
    assert main(["--home", str(home), "ingest", str(path)]) == 1
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("失败")]
    assert len(errors) == 1 and path.name in errors[0] and REASONS[kind] in errors[0], errors
    with Store.open(home) as store:
        assert store.counts() == {"documents": 0, "clauses": 0, "tasks": 0, "responsibilities": 0, "units": 0, "units_fts": 0}


def test_a_folder_with_good_and_bad_files_ingests_the_good_ones(tmp_path, capsys):
    for kind in ("empty.txt", "scanned.pdf", "bomb.docx"):
        make_bad_file(kind, tmp_path)
    (tmp_path / "input" / SEED.name).write_bytes(SEED.read_bytes())
    assert main(["--home", str(tmp_path / "home"), "ingest", str(tmp_path / "input")]) == 1
    output = capsys.readouterr()
    assert "新增 1" in output.out and "失败 3" in output.out
    with Store.open(tmp_path / "home") as store:
        assert [document.id for document in store.documents()] == ["武汉市减污降碳协同增效实施方案"]


def test_missing_path_is_an_error(tmp_path, capsys):
    assert main(["--home", str(tmp_path / "home"), "ingest", str(tmp_path / "nope.txt")]) == 1
    assert "nope.txt" in capsys.readouterr().err
