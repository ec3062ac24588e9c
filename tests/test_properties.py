"""Property-based checks: the parser ends in a Document or a ParseError on any text, never a crash."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ingest import ParseError, parse_document
from ingest.markers import find_markers
from ingest.normalize import matching_copy
from ingest.records import SourceText

ALPHABET = "（）()〈〉、，,。：:；一二三四五六七十1234.第条章节附件负责牵头配合落实按职责分工等市省发改委局部各区人民政府以下均需不再列出列第一位者为牵头单位下同含 \u3000"
LINES = st.lists(st.text(alphabet=ALPHABET, min_size=1, max_size=60), min_size=1, max_size=25)


@settings(max_examples=300, deadline=None)
@given(LINES)
def test_parser_never_crashes_and_keeps_text(lines):
    source = SourceText(tuple(lines), "txt", "utf-8", "0" * 64, "generated", {"title": "生成的测试文件"})
    try:
        document = parse_document(source)
    except ParseError:
        return
    joined = "".join(lines)
    for clause in document.clauses:
        assert all(part in joined for part in clause.text.split("\n"))
        for task in clause.tasks:
            assert task.marker in joined and all(item.role in ("lead", "co", "support") for item in task.departments)
    assert len({clause.id for clause in document.clauses}) == len(document.clauses)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=200))
def test_marker_spans_cut_the_original(text):
    for marker in find_markers(text, matching_copy(text)):
        assert text[marker.start:marker.end] == marker.text
        assert marker.text[0] in "（(" and marker.text[-1] in "）)"
