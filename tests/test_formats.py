"""The seed rendered as an official-style PDF and as a DOCX, in Simplified script, parses like the text."""

from __future__ import annotations

import pdfplumber
import pytest

from ingest import ingest_file
from ingest.normalize import compact


def outline(document):
    """What must not depend on the file format: numbering paths, numbers, departments, roles."""
    return [(clause.path, compact(clause.number), clause.kind,
             tuple((item.canonical, item.role) for task in clause.tasks for item in task.departments),
             tuple((item.canonical, tuple(map(compact, item.includes))) for item in clause.inherited))
            for clause in document.clauses]


def test_pdf_fixture_is_official_style(seed_pdf):
    with pdfplumber.open(seed_pdf) as pdf:
        assert len(pdf.pages) >= 8
        second = pdf.pages[1].extract_text()
        assert "— 2 —" in second and second.startswith("武汉市减污降碳协同增效实施方案")
        widths = [len(line["text"]) for line in pdf.pages[2].extract_text_lines()]
        assert max(widths) <= 30  # 28 characters a line, a few narrow digits more


@pytest.mark.parametrize("fixture", ["seed_pdf", "seed_docx"])
def test_rendered_plan_gives_the_same_clauses_as_the_text(fixture, seed, request):
    rendered = ingest_file(request.getfixturevalue(fixture))
    assert rendered.id == seed.id and rendered.script == "simplified"
    assert outline(rendered) == outline(seed)
    assert [clause.id for clause in rendered.clauses] == [clause.id for clause in seed.clauses]
    for ours, theirs in zip(rendered.clauses, seed.clauses):
        assert compact(ours.text) == compact(theirs.text), ours.id  # lines and pages joined back exactly


def test_pdf_running_header_and_page_numbers_are_dropped(seed_pdf):
    document = ingest_file(seed_pdf)
    for clause in document.clauses:
        assert "— " not in clause.text
        assert clause.kind == "preamble" or "武汉市减污降碳协同增效实施方案" + "\n" not in clause.text
    first = next(clause for clause in document.clauses if clause.kind == "item")
    assert first.tasks[0].marker.startswith("（市发改委") and first.tasks[0].marker.endswith("不再列出）")


SHARED_PDF_PAIRS = [
    ("国发2018-39号_促进就业若干意见_text_embedded_font.pdf", "39_国发〔2018〕39号.txt"),
    ("国发2018-39号_促进就业若干意见_text_cid_STSong_nonembedded.pdf", "39_国发〔2018〕39号.txt"),
    ("国发2019-3号_综合保税区若干意见_text_embedded_font.pdf", "05_国发〔2019〕3号.txt"),
    ("国办发2018-128号_无废城市建设试点工作方案_text_embedded_font.pdf", "07_国办发〔2018〕128号.txt"),
]


@pytest.mark.parametrize("pdf_name, text_name", SHARED_PDF_PAIRS)
def test_shared_pdfs_parse_like_their_text_versions(shared, pdf_name, text_name):
    from_pdf = ingest_file(shared / "corpus" / "pdf" / pdf_name)
    from_text = ingest_file(shared / "corpus" / "state_council" / text_name)
    assert from_pdf.id == from_text.id
    assert outline(from_pdf) == outline(from_text)
