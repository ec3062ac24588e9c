"""The readers on small real files: tables as structure (HTML, markdown, DOCX, PDF), page metadata from
the document rather than its chrome, short Big5 texts, and the bounds on work (issue 12, 4–6)."""

from __future__ import annotations

import zlib
from pathlib import Path

import docx
import pytest

from hostile import (PLAN_LINES, PLAN_TITLE, UNMATCHED_END_TAGS_HTML, glyph_bomb_pdf, inflated_xml_docx,
                     official_pdf, paragraph_flood_docx, plan_parsed, raw_pdf)
from ingest import parse_document, read_source
from ingest.errors import UnsafeArchive
from ingest.options import ReadOptions, WorkBounds
from ingest.html_reader import html_blocks
from ingest.markdown_reader import markdown_blocks
from ingest.readers import decode_text, split_blocks
from render import render_table_pdf

DATA = Path(__file__).resolve().parent / "data"
TASK_HEADER = ["序号", "重点任务", "牵头单位", "配合单位", "完成时限"]


def table_blocks(source, table):
    return source.blocks[table.start:table.end]


# -- HTML ------------------------------------------------------------------------------------------

def test_html_task_table_is_read_with_its_spans_expanded():
    source = read_source(DATA / "task_table.html")
    [table] = source.tables  # the metadata table is metadata; the notice's one-cell table is layout
    title = "附件2\n关于推进广州市家庭医生签约服务高质量发展工作的任务分工表"
    assert table.rows[0] == (title,) * 5
    assert table.rows[1] == ("序号", "工作事项", "主要内容", "牵头单位", "配合单位")
    assert table.rows[2][:2] == table.rows[3][:2] == ("1", "有序扩大家庭医生来源。")  # rowspan=2
    assert table.rows[3][3:] == ("各区政府", "市卫生健康委\n市人社局")  # <br> is a line break
    assert table.rows[4] == ("2", "完善签约服务筹资机制。", "合理确定签约服务费标准，签约服务费由医保基金、基本公共卫生服务经费和"
                             "签约居民付费等分担。", "市医保局", "市财政局、市卫生健康委")
    assert table_blocks(source, table)[:2] == ("附件2", "关于推进广州市家庭医生签约服务高质量发展工作的任务分工表")
    assert table_blocks(source, table)[-1].startswith("2 完善签约服务筹资机制。 合理确定")  # cells apart
    assert source.blocks[table.end:] == ()
    assert "穗卫函〔2023〕1930号" in source.blocks[:table.start]  # the layout table's paragraphs stay blocks


def test_html_metadata_comes_from_the_document_not_the_page_chrome():
    source = read_source(DATA / "task_table.html")
    title = "广州市卫生健康委等4部门关于印发推进广州市家庭医生签约服务高质量发展实施方案的通知"
    assert {key: source.metadata.get(key) for key in ("title", "doc_number", "date", "published", "publisher")} == {
        "title": title, "doc_number": "穗卫函〔2023〕1930号", "date": "2023-10-19", "published": "2023-11-07",
        "publisher": "广州市卫生健康委员会"}
    assert "issuer" not in source.metadata  # 发布机构 is who published the page, not who issued the notice
    assert source.metadata["page_title"] == title  # the <title> without its site name
    assert not any(mark in block for block in source.blocks for mark in ("导航区", "索引号", "政府信息公开", "主办"))
    document = parse_document(source)
    assert (document.title, document.doc_number, document.date) == (title, "穗卫函〔2023〕1930号", "2023-10-19")


def test_the_articles_h1_is_the_title_when_a_page_has_no_metadata():
    page = ("<html><head><title>首页 - 某某区人民政府门户网站</title></head><body>"
            "<div class='nav-bar'><h1>某某区人民政府门户网站</h1></div>"
            f"<div class='article'><h1>{PLAN_TITLE}</h1>" + "".join(f"<p>{line}</p>" for line in PLAN_LINES[1:])
            + "</div></body></html>")
    blocks, found, metadata = html_blocks(page)
    assert metadata["title"] == PLAN_TITLE and found == ()
    assert blocks[0] == PLAN_TITLE and "某某区人民政府门户网站" not in blocks


def test_html_spans_beyond_the_table_bound_keep_their_text_and_give_no_table():
    page = "<table>" + "<tr><td colspan=1000 rowspan=65534>甲</td><td>乙</td></tr>" * 300 + "</table>"
    blocks, found, _ = html_blocks(page)
    assert found == () and blocks == ("甲 乙",) * 300


# -- markdown --------------------------------------------------------------------------------------

def test_markdown_layout_table_is_unwrapped_and_the_task_table_kept():
    source = read_source(DATA / "layout_table_capture.md")
    assert "关于开展2025年全区成品油流通市场 集中整治的通知" in source.blocks
    assert "（二）成品油流通领域各类偷逃税行为整治。（责任单位：区税务局）" in source.blocks  # a <br> paragraph
    assert not any("|" in block or "<br>" in block or "](" in block for block in source.blocks)
    [table] = source.tables  # the metadata table became metadata; the one-column body is layout
    assert table.rows == (tuple(TASK_HEADER), ("1", "开展成品油非法运输整治", "区交通运输局", "市公安局平川分局\n区应急局",
                                               "2025年7月31日前"),
                          ("2", "开展偷逃税行为整治", "区税务局", "区商务局、区市场监管局", "2025年7月31日前"))
    assert table_blocks(source, table)[0] == "　".join(TASK_HEADER)
    assert source.metadata == {"index_number": "11620403013912770D/2025-201869", "published": "2025-06-18",
                               "publisher": "平川区政府办"}  # 文号 is empty on the page: no doc_number


def test_markdown_capture_tool_header_gives_real_values_only():
    text = ("## 文档 ：上海市北斗产业高质量发展三年行动计划.md\n\n### 基本信息\n- **文档类型**：政策类\n"
            "- **原文链接**：无\n- **发布机构**：上海市相关部门\n- **发布日期**：2021-2023年期间\n"
            "- **文件名称**：上海市北斗产业高质量发展三年行动计划（2021-2023年）\n- **文件编号**：无\n\n---\n\n"
            "**发布日期**: 2025-10-31\n**原文链接**: [http://stcsm.sh.gov.cn/a.html](http://stcsm.sh.gov.cn/a.html)\n\n"
            + "\n\n".join(PLAN_LINES[1:]))
    blocks, found, metadata = markdown_blocks(text, "capture")
    assert metadata == {"publisher": "上海市相关部门", "title": "上海市北斗产业高质量发展三年行动计划（2021-2023年）",
                        "published": "2025-10-31", "url": "http://stcsm.sh.gov.cn/a.html"}
    assert blocks == tuple(PLAN_LINES[1:]) and found == ()


def test_markdown_gov_metadata_lists_are_read():
    text = ("[首页](https://example.gov.cn/) > [政策文件](https://example.gov.cn/zc/)\n\n"
            "- \\[ 索引号 \\]\n- 11500222696599495J/2024-00030\n- \\[ 发文字号 \\]\n- 綦油联办发〔2024〕2号\n\n"
            "01. \\[主题分类\\] \\-\\-\\--科技教育/教育\n02. \\[发文机构\\] \\-\\-\\--北京市教育委员会\n"
            "03. \\[联合发文单位\\] \\-\\-\\--\n05. \\[成文日期\\] 2024-04-02\n\n"
            "发布时间：2024-09-21信息来源：鹤城区工业和信息化局\n\n" + "\n\n".join(PLAN_LINES))
    blocks, _, metadata = markdown_blocks(text, "capture")
    assert metadata == {"index_number": "11500222696599495J/2024-00030", "doc_number": "綦油联办发〔2024〕2号",
                        "category": "科技教育/教育", "issuer": "北京市教育委员会", "date": "2024-04-02",
                        "published": "2024-09-21", "publisher": "鹤城区工业和信息化局"}
    assert blocks == ("首页 > 政策文件", *PLAN_LINES)


# -- DOCX ------------------------------------------------------------------------------------------

def task_table_docx(path: Path) -> Path:
    """A plan with a 任务分工表: a horizontally merged title row, a vertically merged lead, a table nested
    in a cell, and a one-cell layout table holding two paragraphs."""
    document = docx.Document()
    for line in PLAN_LINES[:2]:
        document.add_paragraph(line)
    frame = document.add_table(rows=1, cols=1).cell(0, 0)
    frame.paragraphs[0].text = PLAN_LINES[2]
    frame.add_paragraph(PLAN_LINES[3])
    document.add_paragraph("附件：重点任务分工表")
    table = document.add_table(rows=5, cols=5)
    title = table.cell(0, 0).merge(table.cell(0, 4))
    title.text = "重点任务分工表"
    for column, text in enumerate(TASK_HEADER):
        table.cell(1, column).text = text
    for row, cells in ((2, ["1", "推进垃圾分类", "市城管执法委", "市生态环境局", "2025年底前"]),
                       (3, ["2", "加强宣传教育", "", "市教育局", "长期坚持"]),
                       (4, ["3", "开展执法检查", "市城管执法委", "", "2025年6月底前"])):
        for column, text in enumerate(cells):
            if text:
                table.cell(row, column).text = text
    table.cell(2, 2).merge(table.cell(3, 2))  # 市城管执法委 leads tasks 1 and 2
    nested = table.cell(4, 3).add_table(rows=2, cols=2)
    for (row, column), text in {(0, 0): "市公安局", (0, 1): "协助", (1, 0): "市市场监管局", (1, 1): "配合"}.items():
        nested.cell(row, column).text = text
    document.add_paragraph("以上任务请按职责分工落实。")
    document.save(str(path))
    return path


def test_docx_tables_keep_merged_and_nested_cells(tmp_path):
    source = read_source(task_table_docx(tmp_path / "plan.docx"))
    [table] = source.tables
    assert table.rows[0] == ("重点任务分工表",) * 5  # gridSpan
    assert table.rows[1] == tuple(TASK_HEADER)
    assert table.rows[2][2] == table.rows[3][2] == "市城管执法委"  # vMerge
    assert table.rows[4] == ("3", "开展执法检查", "市城管执法委", "市公安局　协助\n市市场监管局　配合", "2025年6月底前")
    assert table_blocks(source, table) == ("重点任务分工表", "　".join(TASK_HEADER),
                                           "1　推进垃圾分类　市城管执法委　市生态环境局　2025年底前",
                                           "2　加强宣传教育　市城管执法委　市教育局　长期坚持",
                                           "3　开展执法检查　市城管执法委　市公安局　协助\n市市场监管局　配合　2025年6月底前")
    assert source.blocks[:table.start] == (*PLAN_LINES, "附件：重点任务分工表")  # the one-cell frame unwrapped
    assert source.blocks[table.end:] == ("以上任务请按职责分工落实。",)


def test_docx_one_cell_layout_table_reads_as_paragraphs(tmp_path):
    document = docx.Document()
    frame = document.add_table(rows=1, cols=1).cell(0, 0)
    frame.paragraphs[0].text = PLAN_LINES[0]
    for line in PLAN_LINES[1:]:
        frame.add_paragraph(line)
    document.save(str(tmp_path / "framed.docx"))
    source = read_source(tmp_path / "framed.docx")
    assert source.blocks == tuple(PLAN_LINES) and source.tables == ()
    assert plan_parsed(parse_document(source))


# -- PDF -------------------------------------------------------------------------------------------

PDF_TABLE = [TASK_HEADER,
             ["1", "开展成品油非法运输整治，严厉打击非法改装车辆流动加油", "市住房城乡建设局", "市公安局平川分局", "2025年7月底前"],
             ["2", "开展偷逃税行为整治", None, "市商务局、市市场监管局、市发展改革委、市财政局", "2025年7月底前"],
             ["3", "开展黑加油站点整治", "区商务局", "市公安局\n区应急局", "长期坚持"],
             ["4", "开展计量作弊整治", "区市场监管局", "区商务局", "2025年6月底前"]]
PDF_WIDTHS = [40, 150, 90, 110, 80]


def expected_pdf_rows():
    rows = [list(row) for row in PDF_TABLE]
    rows[2][2] = rows[1][2]  # the merged lead cell repeats
    return tuple(tuple(row) for row in rows)


@pytest.mark.parametrize("repeat_header", [True, False], ids=["header-repeated", "columns-line-up"])
def test_pdf_ruled_table_over_a_page_break_is_one_table(tmp_path, repeat_header):
    path = render_table_pdf(["附件：重点任务分工表"], PDF_TABLE, tmp_path / "table.pdf", PDF_WIDTHS,
                            after=["以上任务按职责分工落实。"], repeat_header=repeat_header, rows_on_first_page=2)
    source = read_source(path)
    [table] = source.tables
    assert table.rows == expected_pdf_rows()  # wrapped names joined, a line break kept, the header once
    assert source.blocks[:table.start] == ("附件：重点任务分工表",)
    assert source.blocks[table.end:] == ("以上任务按职责分工落实。",)  # no cell text read again as lines
    assert table_blocks(source, table)[3] == "3　开展黑加油站点整治　区商务局　市公安局\n区应急局　长期坚持"


def test_a_title_that_repeats_as_the_running_header_is_kept(tmp_path):
    """Page 1 has the running header in its band and the same words as its title line just below: the
    title is text, not furniture, though it is among the page's first lines (failed on main at 7b44639)."""
    source = read_source(official_pdf(tmp_path / "plan.pdf", repeats=40))
    assert source.blocks[0] == PLAN_TITLE and PLAN_TITLE not in source.blocks[1:]


def test_pdf_boxes_behind_each_line_are_not_a_table(tmp_path):
    """ABBYY conversions draw a box behind every line of text, of the line's width: not a table."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    from render import cjk_font
    pdf = canvas.Canvas(str(tmp_path / "boxes.pdf"), pagesize=A4)
    pdf.setFont(cjk_font(), 12)
    for row, line in enumerate(PLAN_LINES):
        y = 780 - 24 * row
        pdf.rect(40, y - 4, 12 * min(len(line), 40) + 4, 18)
        pdf.drawString(42, y, line[:40])
    pdf.save()
    assert read_source(tmp_path / "boxes.pdf").tables == ()


# -- Big5 (issue 11, last bullet) ------------------------------------------------------------------

def short_pieces(text: str, size: int = 8) -> list[str]:
    """Pieces of `size` characters of each line that hold at least three CJK characters."""
    pieces = [line[start:start + size] for line in split_blocks(text) for start in range(0, len(line), size)]
    return [piece for piece in pieces if sum("\u4e00" <= char <= "\u9fff" for char in piece) >= 3]


def test_short_big5_texts_are_decoded_as_big5_not_gb18030():
    traditional = (DATA / "seed_big5.txt").read_bytes().decode("big5")
    pieces = short_pieces(traditional)
    assert len(pieces) > 1000
    assert [piece for piece in pieces if decode_text(piece.encode("big5"), "short.txt") != (piece, "big5")] == []


def test_short_gb18030_texts_are_still_decoded_as_gb18030():
    simplified = (DATA / "guofa_2019_3_gbk.txt").read_bytes().decode("gb18030")
    pieces = short_pieces(simplified)
    assert len(pieces) > 300
    assert [piece for piece in pieces if decode_text(piece.encode("gb18030"), "short.txt") != (piece, "gb18030")] == []


# -- bounded work (issue 12, defects 4, 5, 6) ------------------------------------------------------

def test_glyph_bomb_pdf_is_refused_before_pdfplumber_builds_its_glyphs(tmp_path):
    path = glyph_bomb_pdf(tmp_path / "glyphs.pdf")
    assert path.stat().st_size < 2048
    with pytest.raises(UnsafeArchive, match="第 1 页的字形超过 100,000 个"):
        read_source(path)


def test_a_page_with_much_content_but_few_objects_is_still_read(tmp_path):
    """Over the fast bound (content bytes), so counted by the interpreter: 30,000 moves and 15 glyphs."""
    content = b"1 0 0 1 0 0 cm " * 30_000 + b"BT /F1 12 Tf 72 720 Td (Plan for waste sorting) Tj ET"
    stream = zlib.compress(content)
    path = tmp_path / "heavy.pdf"
    path.write_bytes(raw_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]))
    assert len(content) > 400_000 and read_source(path).blocks == ("Plan for waste sorting",)


def shared_stream_pdf(path: Path, pages: int, glyphs: int) -> Path:
    """`pages` pages that all draw one content stream of `glyphs` glyphs: a small file, much work."""
    stream = zlib.compress(b"BT /F1 1 Tf 10 10 Td (" + b"A" * glyphs + b") Tj ET")
    kids = b" ".join(b"%d 0 R" % (5 + page) for page in range(pages))
    page = (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 3 0 R "
            b"/Resources << /Font << /F1 4 0 R >> >> >>")
    path.write_bytes(raw_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages),
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>", *[page] * pages]))
    return path


def test_pages_sharing_one_stream_are_bounded_by_the_document_glyph_budget(tmp_path):
    """100 pages of 99,000 glyphs from a 2 KB file would take minutes: the document's glyphs are counted
    (here against a budget of 2,500 so that the test reads 25 pages of 100, not 10 of 99,000)."""
    path = shared_stream_pdf(tmp_path / "shared.pdf", pages=100, glyphs=100)
    with pytest.raises(UnsafeArchive, match="到第 26 页为止，字形共超过 2,500 个"):
        read_source(path, options=ReadOptions(bounds=WorkBounds(pdf_glyphs=2_500)))


def test_the_docx_bounds_are_options(tmp_path):
    path = paragraph_flood_docx(tmp_path / "small.docx", paragraphs=300)
    assert read_source(path).blocks  # within the default bounds
    with pytest.raises(UnsafeArchive, match="200 个段落"):
        read_source(path, options=ReadOptions(bounds=WorkBounds(docx_paragraphs=200)))


def test_docx_with_xml_beyond_the_part_bound_is_refused_under_the_ratio_check(tmp_path):
    path = inflated_xml_docx(tmp_path / "inflated.docx")
    with pytest.raises(UnsafeArchive, match="word/document.xml 解压后 40 MB，超过每个 XML 部件 32 MB"):
        read_source(path)


def test_docx_paragraph_flood_is_refused(tmp_path):
    with pytest.raises(UnsafeArchive, match="50,000 个段落"):
        read_source(paragraph_flood_docx(tmp_path / "flood.docx"))


@pytest.mark.timeout(60)  # linear: about a second; the quadratic stack search took minutes
def test_unmatched_end_tags_do_not_make_html_parsing_quadratic():
    blocks, _, metadata = html_blocks(UNMATCHED_END_TAGS_HTML)
    assert metadata["title"] == PLAN_TITLE and blocks[:4] == tuple(PLAN_LINES)
