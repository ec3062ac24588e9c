""".doc/.wps/.rtf/.odt through LibreOffice: the seed's DOCX converted by LibreOffice gives exactly the
text outline; without LibreOffice the error names the Debian package; a conversion that runs past its
timeout is killed, through the command line and the upload API alike."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import pytest
from fastapi.testclient import TestClient

from index import Store
from ingest import ingest_file
from ingest.normalize import compact
from render import convert_with_libreoffice
from search_api import Settings, create_app
from search_api.cli import main
from test_formats import outline

TOKEN = "formats-test-token-0123"  # the service refuses tokens under 16 characters

needs_libreoffice = pytest.mark.skipif(shutil.which("soffice") is None,
                                       reason="LibreOffice 未安装：make system-packages 安装 libreoffice-writer-nogui")


@pytest.fixture(scope="module")
def converted(seed_docx, tmp_path_factory):
    folder = tmp_path_factory.mktemp("office")
    return {suffix: convert_with_libreoffice(seed_docx, suffix, folder) for suffix in ("doc", "odt", "rtf")}


@needs_libreoffice
@pytest.mark.parametrize("suffix", ["doc", "odt", "rtf", "wps"])
def test_a_converted_seed_gives_the_text_outline(suffix, converted, seed, tmp_path):
    path = converted.get(suffix)
    if suffix == "wps":  # WPS Office's .wps is the Word binary format under its own name
        path = shutil.copyfile(converted["doc"], tmp_path / "武汉市减污降碳协同增效实施方案.wps")
    document = ingest_file(path)
    assert document.id == seed.id and document.format == suffix and document.encoding == "libreoffice"
    assert outline(document) == outline(seed)
    for ours, theirs in zip(document.clauses, seed.clauses):
        assert compact(ours.text) == compact(theirs.text), ours.id


def test_without_libreoffice_the_error_names_the_package(tmp_path, seed_docx):
    path = tmp_path / "plan.doc"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512)
    empty = tmp_path / "bin"
    empty.mkdir()
    run = subprocess.run([sys.executable, "-m", "search_api.cli", "--home", str(tmp_path / "home"), "ingest", str(path)],
                         env={**os.environ, "PATH": str(empty)}, capture_output=True, text=True, timeout=120)
    failures = [line for line in run.stderr.splitlines() if line.startswith("失败")]
    assert run.returncode == 1 and len(failures) == 1, run.stderr
    assert "plan.doc" in failures[0] and "libreoffice-writer-nogui" in failures[0]


def slow_rtf(path):
    """An RTF that keeps LibreOffice busy far longer than the test's timeout: 200,000 tiny table rows."""
    row = r"\trowd\cellx1000\cellx2000 a\cell b\cell\row" + "\n"
    path.write_text(r"{\rtf1\ansi{\fonttbl\f0 Arial;}" + "\n" + row * 200_000 + "}", encoding="ascii")
    return path


@needs_libreoffice
def test_a_hanging_conversion_is_killed_by_the_timeout(tmp_path, capsys):
    path = slow_rtf(tmp_path / "slow.rtf")
    started = time.monotonic()
    code = main(["--home", str(tmp_path / "home"), "ingest", "--convert-timeout", "3", str(path)])
    assert time.monotonic() - started < 30
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("失败")]
    assert code == 1 and len(errors) == 1 and "slow.rtf" in errors[0] and "超过 3 秒" in errors[0]
    assert not [line for line in subprocess.run(["pgrep", "-af", str(tmp_path)], capture_output=True,
                                                text=True).stdout.splitlines() if "soffice" in line]
    with Store.open(tmp_path / "home") as store:
        assert store.counts()["documents"] == 0
    settings = Settings(home=tmp_path / "service", token=TOKEN, encoder="none", embed_in_background=False,
                        convert_timeout_s=3)
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as client, path.open("rb") as handle:
        started = time.monotonic()
        response = client.post("/api/documents", files={"file": ("slow.rtf", handle, "application/rtf")},
                               headers={"Authorization": f"Bearer {TOKEN}"})
    assert time.monotonic() - started < 30
    assert response.status_code == 422 and "超过 3 秒" in response.json()["error"]["message"]
