"""Shared fixtures: the bundled corpus, ../shared when present, rendered PDF and DOCX fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # models load from disk only; no test may reach a hub

from ingest import Document, ingest_file
from ingest.normalize import to_simplified
from ingest.readers import split_blocks
from render import official_punctuation, render_docx, render_official_pdf

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
SHARED = ROOT.parent / "shared"
DATA = Path(__file__).resolve().parent / "data"
SEED = CORPUS / "seed" / "武汉市减污降碳协同增效实施方案.txt"


@pytest.fixture(scope="session")
def shared() -> Path:
    if not (SHARED / "corpus").is_dir():
        pytest.skip(f"../shared 不存在（{SHARED}）：这个测试读取共享语料，请把 shared 目录放在仓库旁边")
    return SHARED


@pytest.fixture(scope="session")
def seed() -> Document:
    return ingest_file(SEED)


@pytest.fixture(scope="session")
def seed_simplified_blocks() -> list[str]:
    """The seed as given (noise included), in Simplified script with official full-width punctuation."""
    return [official_punctuation(to_simplified(block)) for block in split_blocks(SEED.read_text(encoding="utf-8"))]


@pytest.fixture(scope="session")
def seed_pdf(tmp_path_factory: pytest.TempPathFactory, seed_simplified_blocks: list[str]) -> Path:
    path = tmp_path_factory.mktemp("pdf") / "武汉市减污降碳协同增效实施方案.pdf"
    return render_official_pdf(seed_simplified_blocks, path, "武汉市减污降碳协同增效实施方案")


@pytest.fixture(scope="session")
def seed_docx(tmp_path_factory: pytest.TempPathFactory, seed_simplified_blocks: list[str]) -> Path:
    path = tmp_path_factory.mktemp("docx") / "武汉市减污降碳协同增效实施方案.docx"
    return render_docx(seed_simplified_blocks, path, "武汉市减污降碳协同增效实施方案")
