"""OFD: the seed's official-style PDF converted to OFD (tests/render.py) gives exactly the text outline;
the real OFD of the shared corpus is read in reading order."""

from __future__ import annotations

import pytest

from ingest import ingest_file, read_source
from ingest.normalize import compact
from render import render_ofd
from test_formats import outline


@pytest.fixture(scope="module")
def seed_ofd(seed_pdf, tmp_path_factory):
    return render_ofd(seed_pdf, tmp_path_factory.mktemp("ofd") / "武汉市减污降碳协同增效实施方案.ofd")


def test_seed_ofd_gives_the_text_outline(seed_ofd, seed):
    document = ingest_file(seed_ofd)
    assert document.id == seed.id and document.format == "ofd"
    assert outline(document) == outline(seed)
    for ours, theirs in zip(document.clauses, seed.clauses):
        assert compact(ours.text) == compact(theirs.text), ours.id


def test_real_ofd_is_read_in_reading_order(shared):
    path = next((shared / "corpus" / "realworld").glob("18_*.ofd"))
    source = read_source(path)
    assert source.blocks[0] == "关于加快南货场铁路涵洞下穿建设的函"
    assert source.blocks[1] == "蚌山区政府："
    body = "".join(source.blocks[2:])
    assert "根据我市2023年房地产用地供应计划" in body and "并加快工程施工建设。" in body
    assert source.blocks[-1].replace(" ", "") == "2023年7月12日"
