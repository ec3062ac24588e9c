"""Scans through OCR: the seed printed, scanned (150 dpi, ±1°, blur, speckle, JPEG, a red seal) and read
back gives the text version's clauses; text pages of a mixed PDF stay text; images are OCR'd too.

The 17-page scan is OCR'd once per session (about a minute and a half on 2 cores); other tests OCR a
page or two.
"""

from __future__ import annotations

import pypdfium2
import pytest

from eval.ocr_bench import assignments, cer
from ingest import ingest_file, parse_document, read_source
from ingest.ocr import page_ranges
from ingest.options import ReadOptions
from render import render_scan
from test_formats import outline

TOKEN = "formats-test-token-0123"  # the service refuses tokens under 16 characters


@pytest.fixture(scope="module")
def seed_scan(seed_pdf, tmp_path_factory):
    return render_scan(seed_pdf, tmp_path_factory.mktemp("scan") / "武汉市减污降碳协同增效实施方案（扫描件）.pdf")


@pytest.fixture(scope="module")
def seed_scan_source(seed_scan):
    pages: list[tuple[int, int]] = []
    return read_source(seed_scan, options=ReadOptions(on_page=lambda done, total: pages.append((done, total)))), pages


def test_the_scan_has_no_text_layer(seed_scan, seed_pdf):
    scan, text = pypdfium2.PdfDocument(str(seed_scan)), pypdfium2.PdfDocument(str(seed_pdf))
    assert len(scan) == len(text) >= 15
    assert not scan[0].get_textpage().get_text_range().strip()


def test_seed_scan_gives_the_text_versions_clauses_and_departments(seed_scan_source, seed_pdf, seed):
    source, _ = seed_scan_source
    scanned = parse_document(source)
    assert scanned.id == seed.id and scanned.title == ingest_file(seed_pdf).title  # the print is Simplified
    assert [clause.id for clause in scanned.clauses] == [clause.id for clause in seed.clauses]
    assert sum(clause.kind == "item" for clause in scanned.clauses) == 26
    theirs, ours = assignments(seed), assignments(scanned)
    assert sum(ours.get(name) == cells for name, cells in theirs.items()) >= 22  # of 23
    assert cer(source.blocks, read_source(seed_pdf).blocks) < 0.02


def test_an_ocr_read_document_says_so_with_each_lines_confidence(seed_scan_source, seed_scan):
    source, pages = seed_scan_source
    count = len(pypdfium2.PdfDocument(str(seed_scan)))
    assert source.encoding == f"ocr:1-{count}" and source.metadata["ocr"] == f"1-{count}"
    assert pages == [(done, count) for done in range(1, count + 1)]  # progress per page
    assert len(source.ocr) > 300 and all(0.5 <= line.confidence <= 1 for line in source.ocr)
    assert {line.page for line in source.ocr} == set(range(1, count + 1))


def test_running_header_and_page_numbers_of_a_scan_are_dropped(seed_scan_source):
    source, _ = seed_scan_source
    assert source.blocks.count("武汉市减污降碳协同增效实施方案") <= 2  # the two titles, never the running header
    assert not any(block.strip("-—一 ").isdigit() for block in source.blocks)


def test_a_red_seal_over_the_signature_does_not_break_its_lines(seed_scan_source, seed_pdf):
    source, _ = seed_scan_source
    text = read_source(seed_pdf).blocks
    signature = [block for block in text[:12] if block.startswith("武汉市") and block.endswith(("局", "会"))]
    recognised = [block.replace(" ", "") for block in source.blocks[:12]]
    assert signature and all(line.replace(" ", "") in recognised for line in signature)
    assert not any("公章" in block for block in source.blocks)


def scanned_pages(pdf, scan, numbers, path):
    """`pdf` with the pages `numbers` (0-based) replaced by the same pages of `scan`."""
    mixed, images = pypdfium2.PdfDocument(str(pdf)), pypdfium2.PdfDocument(str(scan))
    for number in numbers:
        mixed.del_page(number)
        mixed.import_pages(images, [number], index=number)
    mixed.save(str(path))
    return path


def test_a_mixed_pdf_reads_text_pages_as_text_and_ocrs_the_others(seed_pdf, seed_scan, seed, tmp_path):
    mixed = scanned_pages(seed_pdf, seed_scan, [5], tmp_path / "mixed.pdf")
    source = read_source(mixed)
    assert source.encoding == "ocr:6" and source.metadata["ocr"] == "6"
    assert {line.page for line in source.ocr} == {6}
    assert outline(parse_document(source)) == outline(seed)


def test_page_ranges():
    assert page_ranges([0, 1, 2, 5, 7, 8]) == "1-3, 6, 8-9" and page_ranges([4]) == "5"


def test_page_images_are_read_by_ocr_a_tiff_page_by_page(seed_scan, tmp_path):
    page = pypdfium2.PdfDocument(str(seed_scan))[0].render(scale=150 / 72).to_pil()
    top, bottom = page.crop((0, 0, page.width, page.height // 4)), page.crop((0, page.height // 2, page.width,
                                                                                3 * page.height // 4))
    top.save(tmp_path / "top.png", dpi=(150, 150))
    source = read_source(tmp_path / "top.png")
    assert source.format == "png" and source.encoding == "ocr:1"
    # (a quarter page has too few wrapped lines to tell indentation, so paragraphs may run together)
    assert any(block.startswith("关键词：污水处理运营污水处理外包工业污水处理") for block in source.blocks)
    top.convert("RGB").save(tmp_path / "two.tiff", save_all=True, append_images=[bottom.convert("RGB")])
    two = read_source(tmp_path / "two.tiff")
    assert two.format == "tiff" and two.encoding == "ocr:1-2"
    assert {line.page for line in two.ocr} == {1, 2} and any("各区人民政府" in block for block in two.blocks)


def test_a_scan_with_an_invisible_ocr_text_layer_is_read_as_text(shared):
    path = next((shared / "corpus" / "realworld").glob("14_*.pdf"))
    source = read_source(path, options=ReadOptions(max_pages=0))  # a page sent to OCR would be refused
    assert source.encoding == "pdf" and not source.ocr
    assert len("".join(source.blocks)) > 5000


def test_shared_image_only_pdf_parses_like_its_text(shared):
    scan = ingest_file(shared / "corpus" / "pdf" / "国发2018-39号_促进就业若干意见_scanned_image_only.pdf")
    text = ingest_file(shared / "corpus" / "state_council" / "39_国发〔2018〕39号.txt")
    assert scan.id == text.id
    assert [clause.id for clause in scan.clauses] == [clause.id for clause in text.clauses]


def test_the_json_and_the_page_say_a_document_was_ocr_read(tmp_path):
    from fastapi.testclient import TestClient

    from hostile import plan_image
    from search_api import Settings, create_app

    plan_image(tmp_path / "plan.png").save(tmp_path / "plan.png")
    settings = Settings(home=tmp_path / "home", token=TOKEN, encoder="none", embed_in_background=False)
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as client, \
            (tmp_path / "plan.png").open("rb") as handle:
        uploaded = client.post("/api/documents", files={"file": ("plan.png", handle, "image/png")},
                               headers={"Authorization": f"Bearer {TOKEN}"})
        assert uploaded.status_code == 201, uploaded.text
        doc_id = uploaded.json()["doc_id"]
        assert client.get(f"/api/documents/{doc_id}").json()["document"]["encoding"] == "ocr:1"
        assert "第 1 页由 OCR 识别" in client.get(f"/documents/{doc_id}").text
