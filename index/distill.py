"""Distil a fast static encoder from e5 (model2vec-style), for bulk embedding of large collections.

    vocabulary  jieba words of the store's passages (precise mode, the project dictionary), the most
                frequent `max_words`, plus every CJK character seen, so any text is covered
    teacher     e5 embeds each vocabulary item once (passage form)
    reduce      PCA to `dimensions` (centred), then each word weighted by SIF a / (a + p(word))
    model       a sentence-transformers StaticEmbedding over a WordLevel tokenizer; text is segmented
                with jieba first (StaticEncoder does that), unknown words fall back to characters

The result is saved as an ordinary sentence-transformers model folder with a `policykb-static.json`
beside it recording the teacher, vocabulary size, dimensions and the segmenter fingerprint.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from pathlib import Path
from typing import Callable

import numpy as np

from .encoders import Encoder
from .segment import Segmenter
from .store import Store

logger = logging.getLogger(__name__)
UNKNOWN = "[UNK]"
MANIFEST = "policykb-static.json"


def vocabulary(store: Store, segmenter: Segmenter, max_words: int) -> Counter:
    counts: Counter = Counter()
    for _, _, passage in store.unit_passages():
        counts.update(segmenter.words(passage))
    words = Counter(dict(counts.most_common(max_words)))
    for word, count in counts.items():  # every character, so unknown words can fall back to them
        for char in word:
            if char not in words:
                words[char] = 0
            words[char] += count if len(word) > 1 else 0
    return words


def distill(store: Store, teacher: Encoder, segmenter: Segmenter, out: Path, *, max_words: int = 30_000,
            dimensions: int = 256, batch_size: int = 64, on_batch: Callable[[int, int], None] | None = None) -> Path:
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import StaticEmbedding
    from tokenizers import Tokenizer, models, pre_tokenizers

    counts = vocabulary(store, segmenter, max_words)
    words = sorted(counts, key=lambda word: (-counts[word], word))
    vectors = np.zeros((len(words), teacher.dim), dtype=np.float32)
    for start in range(0, len(words), batch_size):
        vectors[start:start + batch_size] = teacher.encode_passages(words[start:start + batch_size])
        if on_batch:
            on_batch(min(start + batch_size, len(words)), len(words))
    reduced = _pca(vectors, dimensions)
    total = sum(counts.values()) or 1
    weights = np.array([1e-3 / (1e-3 + counts[word] / total) for word in words], dtype=np.float32)
    table = np.vstack([np.zeros((1, reduced.shape[1]), dtype=np.float32), reduced * weights[:, None]])
    tokenizer = Tokenizer(models.WordLevel({UNKNOWN: 0, **{word: i + 1 for i, word in enumerate(words)}},
                                           unk_token=UNKNOWN))
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    model = SentenceTransformer(modules=[StaticEmbedding(tokenizer, embedding_weights=table)], device="cpu")
    out.mkdir(parents=True, exist_ok=True)
    model.save(str(out))
    (out / MANIFEST).write_text(json.dumps({
        "teacher": teacher.name, "words": len(words), "dimensions": int(reduced.shape[1]),
        "segmenter": segmenter.fingerprint, "weighting": "SIF a=1e-3", "reduction": "PCA"}, indent=2) + "\n")
    logger.info("distilled %d words from %s into %s", len(words), teacher.name, out)
    return out


def _pca(vectors: np.ndarray, dimensions: int) -> np.ndarray:
    centred = vectors - vectors.mean(axis=0, keepdims=True)
    _, _, components = np.linalg.svd(centred, full_matrices=False)
    return (centred @ components[:min(dimensions, components.shape[0])].T).astype(np.float32)
