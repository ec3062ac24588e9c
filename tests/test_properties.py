"""Property-based checks (hypothesis): the readers, the heading grammar and the parser end in a
Document or a named error on any input, never a crash."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hostile import HTML_WITH_SCRIPTS, PLAN_TITLE, good_docx, official_pdf, plan_ofd
from ingest import InputError, ParseError, parse_document, read_source
from ingest.options import ReadOptions
from ingest.errors import UndecodableText
from ingest.headings import HEADING_PATTERNS, match_heading, run_in_title
from ingest.html_reader import html_blocks
from ingest.markdown_reader import markdown_blocks
from ingest.markers import find_markers
from ingest.normalize import matching_copy
from ingest.readers import decode_text
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


# -- readers and the heading grammar on arbitrary input --------------------------------------------

HEADING_ALPHABET = "第一二三四五六七八九十百千零〇两编章节条之、.()（）①②⑳附件:：0123456789 \u3000。abc"
MARKUP = st.text(alphabet="<>/=\"' abcdehilmnoprstvy!-&;#x0123456789\n政策方案（一）、。", max_size=300)
TEXT_SAMPLE = (Path(__file__).parent.parent / "corpus" / "seed" / "武汉市减污降碳协同增效实施方案.txt").read_bytes()


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=HEADING_ALPHABET, max_size=30))
def test_heading_grammar_never_crashes(text):
    copy = matching_copy(text)
    heading = match_heading(copy, text)
    if heading is not None:
        assert 0 < heading.rest_start <= len(text) and heading.component[0].isalpha()
        assert heading.kind in {pattern.kind for pattern in HEADING_PATTERNS}
        run_in_title(heading.kind, text[heading.rest_start:])


@settings(max_examples=500, deadline=None)
@given(st.sampled_from([b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"]).flatmap(
    lambda bom: (st.binary(max_size=400) | st.text(max_size=200).map(lambda text: text.encode("utf-8", "surrogatepass")))
    .map(lambda data: bom + data)))
def test_text_decoding_ends_in_text_or_a_named_error(data):
    try:
        text, encoding = decode_text(data, "fuzz.txt")
    except UndecodableText as error:
        assert str(error).startswith("fuzz.txt: ")
        return
    assert isinstance(text, str) and encoding in ("utf-8", "utf-16", "gb18030", "big5")
    assert "\x00" not in text


@settings(max_examples=300, deadline=None)
@given(MARKUP)
def test_html_and_markdown_readers_never_crash(text):
    blocks, _, _ = html_blocks(text)
    assert all(block.strip() for block in blocks) and not any("<script" in block for block in blocks)
    markdown_blocks(text, "fuzz")


def mutated(data: bytes, cuts: list[tuple[int, bytes]], truncate: int | None) -> bytes:
    """`data` with some byte runs overwritten and maybe cut short."""
    buffer = bytearray(data)
    for position, replacement in cuts:
        start = position % max(len(buffer), 1)
        buffer[start:start + len(replacement)] = replacement
    return bytes(buffer[:truncate] if truncate is not None else buffer)


# A longer run: POLICYKB_FUZZ_EXAMPLES=4000 pytest tests/test_properties.py -k mutated
FUZZ_EXAMPLES = int(os.environ.get("POLICYKB_FUZZ_EXAMPLES", "150"))
MUTATIONS = st.tuples(st.lists(st.tuples(st.integers(0, 2**31), st.binary(min_size=1, max_size=16)), max_size=6),
                      st.none() | st.integers(0, 40_000))


# A flipped byte in a font's ToUnicode map turns a page's text into (cid:N) garbage, which sends the
# page to OCR: seconds each. The page limit 0 refuses those pages at once, so the fuzzing stays on
# the parsers; OCR meets hostile pages in the hostile-file catalogue.
NO_OCR = ReadOptions(max_pages=0)


@pytest.fixture(scope="module")
def valid_files(tmp_path_factory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("valid")
    return {".txt": TEXT_SAMPLE, ".docx": good_docx(folder / "plan.docx").read_bytes(),
            ".pdf": official_pdf(folder / "plan.pdf").read_bytes(), ".html": HTML_WITH_SCRIPTS.encode(),
            ".md": f"# {PLAN_TITLE}\n\n## 第一章 总则\n\n第一条 为了规范管理，制定本办法。\n".encode(),
            ".ofd": plan_ofd(folder / "plan.ofd").read_bytes()}


@pytest.mark.parametrize("suffix", [".txt", ".docx", ".pdf", ".html", ".md", ".ofd"])
def test_every_reader_on_mutated_files_ends_in_a_document_or_a_named_error(suffix, valid_files, tmp_path):
    """Byte flips and truncations of a good file of each type, through the reader and the parser."""
    path = tmp_path / f"fuzz{suffix}"
    outcomes = {"document": 0, "refused": 0}

    @settings(max_examples=FUZZ_EXAMPLES, deadline=None)
    @given(MUTATIONS)
    def check(mutation):
        path.write_bytes(mutated(valid_files[suffix], *mutation))
        try:
            document = parse_document(read_source(path, options=NO_OCR))
        except (InputError, ParseError) as error:
            assert str(error) and "Traceback" not in str(error)
            outcomes["refused"] += 1
            return
        assert document.title and all(clause.id.startswith(document.id) for clause in document.clauses)
        outcomes["document"] += 1

    check()
    # HTML and markdown read whatever bytes they get; an OFD's parts are small and deflated, so nearly every
    # flipped byte fails a CRC and the package is refused.
    assert outcomes["document"] and outcomes["refused"] or suffix in (".html", ".md", ".ofd"), outcomes
