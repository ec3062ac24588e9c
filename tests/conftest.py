"""Shared fixtures: the bundled corpus, ../shared when present, rendered PDF and DOCX fixtures."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Iterator

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
PLANS = sorted((CORPUS / "plans").glob("*.txt"))  # the national and Hubei 减污降碳 plans
RULE_DOC = CORPUS / "state_council" / "05_国发〔2019〕3号.txt"  # 「排在第一位的部门为牵头部门」


def build_home(home: Path, paths: list[Path], vectors: bool = True) -> Path:
    """A store in `home` with `paths` ingested and, with `vectors`, the shipped e5 vectors imported."""
    from index import Store, ingest_paths
    from index.dense import import_vectors
    from index.encoders import load_encoder

    with Store.open(home) as store:
        assert all(result.status == "added" for result in ingest_paths(store, paths))
        if vectors:
            import_vectors(store, ROOT / "eval" / "cache" / "e5-bundled.npz", load_encoder("e5").name)
    return home


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def serving(home: Path, **environment: str) -> Iterator[str]:
    """A real `policykb serve` process on a free loopback port; yields its base URL once it answers.
    `environment` adds POLICYKB_* settings; its log is `home/serve.log`."""
    port, log = free_port(), home / "serve.log"
    with log.open("wb") as output:
        process = subprocess.Popen([sys.executable, "-m", "search_api.cli", "--home", str(home), "serve", "--port",
                                    str(port)], env={**os.environ, **environment}, stdout=output,
                                   stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status", timeout=2)
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"policykb serve did not start: {log.read_text()[-2000:]}")
                time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


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
