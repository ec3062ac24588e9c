"""The distilled static encoder: built from a small store by the real e5 teacher, saved, reloaded, used."""

from __future__ import annotations

import json

import numpy as np

from conftest import CORPUS
from index import Searcher, Store, embed_missing, ingest_paths
from index.distill import MANIFEST, distill
from index.encoders import E5Encoder, load_encoder


def test_distilled_encoder_embeds_and_retrieves(tmp_path):
    with Store.open(tmp_path / "home") as store:
        ingest_paths(store, [CORPUS / "state_council" / "39_国发〔2018〕39号.txt"])
        folder = distill(store, E5Encoder(), store.segmenter, tmp_path / "static", max_words=400, dimensions=64)
        manifest = json.loads((folder / MANIFEST).read_text())
        assert manifest["dimensions"] == 64 and manifest["teacher"].startswith("e5:")
        encoder = load_encoder(f"static:{folder}")
        vectors = encoder.encode_passages(["失业保险", "创业担保贷款", "未登录的词语饕餮"])
        assert vectors.shape == (3, 64) and np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
        assert embed_missing(store, encoder) == store.counts()["units"]
        hits = Searcher(store, encoder).search("创业担保贷款贴息", k=3, mode="dense")
        assert any(hit.clause_id.endswith("s2.p3") for hit in hits)  # a 400-word, 64-d model: top 3
