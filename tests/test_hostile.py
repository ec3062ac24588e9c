"""The hostile-file catalogue (tests/hostile.py) through the command line and the HTTP upload alike:
every file ends in a clear one-line error that names it and the reason, or in the right document;
never a crash, a hang (each file has a time limit) or a partial write."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hostile import CATALOGUE, CLI_ONLY, Accepted, Refused, make
from index import Store
from ingest.readers import SUFFIXES
from search_api import Settings, create_app
from search_api.cli import main

TOKEN = "hostile-token-0123"  # the service refuses tokens under 16 characters
EMPTY = {"documents": 0, "clauses": 0, "tasks": 0, "responsibilities": 0, "units": 0, "units_fts": 0}
STORE_FILES = {"policykb.sqlite3", "policykb.sqlite3-wal", "policykb.sqlite3-shm"}


def test_the_catalogue_is_large_enough():
    assert len(CATALOGUE) + len(CLI_ONLY) >= 40
    assert sum(isinstance(expected, Refused) for _, expected in CATALOGUE.values()) >= 30


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("hostile")
    for name in CATALOGUE:
        make(name, folder)
    return folder


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", [*CATALOGUE, *CLI_ONLY])
def test_command_line(name, files, tmp_path, capsys):
    path = files / name if name in CATALOGUE else make(name, tmp_path / "input", CLI_ONLY)
    expected = (CATALOGUE | CLI_ONLY)[name][1]
    home = tmp_path / "home"
    code = main(["--home", str(home), "ingest", str(path)])
    output = capsys.readouterr()
    errors = [line for line in output.err.splitlines() if line.startswith("失败")]
    with Store.open(home) as store:
        if isinstance(expected, Refused):
            assert code == 1 and len(errors) == 1, output
            assert name in errors[0] and expected.reason in errors[0], errors[0]
            assert store.counts() == EMPTY
        else:
            assert code == 0 and not errors, output
            [document] = store.documents()
            assert expected.check(store.document(document.id)), document
            assert document.title == expected.title
    assert {path.name for path in home.iterdir()} <= STORE_FILES, "nothing but the store is written"


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    home = tmp_path_factory.mktemp("service")
    with TestClient(create_app(Settings(home=home, token=TOKEN, encoder="none", embed_in_background=False)),
                    base_url="http://127.0.0.1") as client:
        yield client


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", list(CATALOGUE))
def test_upload(name, files, service):
    expected = CATALOGUE[name][1]
    library = service.app.state.library
    home = Path(service.app.state.settings.home)
    with (files / name).open("rb") as handle:
        response = service.post("/api/documents", files={"file": (name, handle, "application/octet-stream")},
                                headers={"Authorization": f"Bearer {TOKEN}"})
    if isinstance(expected, Refused):
        assert response.status_code == expected.status, response.text
        error = response.json()["error"]
        assert expected.reason in error["message"], error
        # A body over the size limit is refused from its Content-Length, before its file name is read.
        assert name in error["message"] or response.status_code == 413, error
        assert str(home) not in error["message"] and "Traceback" not in error["message"]
        assert library.store.counts() == EMPTY
        assert not (home / "uploads").exists() or not list((home / "uploads").iterdir())
        return
    assert response.status_code == 201, response.text
    doc_id = response.json()["doc_id"]
    assert expected.check(library.store.document(doc_id))
    assert service.get(f"/api/documents/{doc_id}").json()["document"]["title"] == expected.title
    assert service.delete(f"/api/documents/{doc_id}", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    assert library.store.counts() == EMPTY


@pytest.mark.timeout(300)
def test_the_whole_catalogue_as_one_folder(files, tmp_path, capsys):
    """One `policykb ingest FOLDER`: the good files are stored, each bad one reported once."""
    home = tmp_path / "home"
    assert main(["--home", str(home), "ingest", str(files)]) == 1
    output = capsys.readouterr()
    refused = {name for name, (_, expected) in CATALOGUE.items() if isinstance(expected, Refused)}
    readable = {name for name in CATALOGUE if Path(name).suffix in SUFFIXES}
    failures = [line for line in output.err.splitlines() if line.startswith("失败")]
    assert sorted(line.split(":")[0].removeprefix("失败 ") for line in failures) == sorted(refused & readable)
    with Store.open(home) as store:
        titles = {document.title for document in store.documents()}
    assert titles == {expected.title for _, expected in CATALOGUE.values() if isinstance(expected, Accepted)}


def test_a_missing_path_is_an_error(tmp_path, capsys):
    assert main(["--home", str(tmp_path / "home"), "ingest", str(tmp_path / "nope.txt")]) == 1
    assert "nope.txt" in capsys.readouterr().err
