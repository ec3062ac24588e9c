"""Word segmentation for the lexical index: jieba on the Simplified matching copy.

A private jieba tokenizer gets a user dictionary of department names (ingest's alias and stem tables,
with their 市/省/区 forms, plus names seen in the store) and policy terms (`data/terms.txt`), so that
「碳达峰」「三线一单」「市生态环境局」 stay whole. Tokens come from jieba's search mode, which adds the
shorter words inside a long one (生态环境局 → 生态, 环境, 生态环境, 生态环境局), so a query for a
part still matches the whole. The fingerprint (jieba version and a hash of the word list) goes into
the index manifest: a different dictionary means the stored tokens must be rebuilt.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
from pathlib import Path
from typing import Iterable

import jieba

from ingest.departments import department_vocabulary
from ingest.normalize import matching_copy

_DATA = Path(__file__).parent / "data"
_KEEP = re.compile(r"[\w.%]+")
_USER_WORD_FREQUENCY = 200_000


def _lines(name: str) -> list[str]:
    return [line.strip() for line in (_DATA / name).read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]


@functools.cache
def stopwords() -> frozenset[str]:
    return frozenset(_lines("stopwords.txt"))


class Segmenter:
    """Text → lexical tokens. Build once per process (`segmenter()`); jieba's dictionary load takes ~1 s."""

    def __init__(self, extra_words: Iterable[str] = ()) -> None:
        words = sorted({*_lines("terms.txt"), *department_vocabulary(), *map(matching_copy, extra_words)})
        self.fingerprint = hashlib.sha256(
            ("jieba " + jieba.__version__ + "\n" + "\n".join(words)).encode("utf-8")).hexdigest()[:16]
        jieba.setLogLevel(logging.WARNING)  # jieba logs its dictionary build at DEBUG to stderr
        self._tokenizer = jieba.Tokenizer()
        for word in words:
            self._tokenizer.add_word(word, _USER_WORD_FREQUENCY)

    def words(self, text: str) -> list[str]:
        """Precise-mode jieba words of the Simplified, lower-cased text, punctuation and spaces dropped
        (stopwords kept): the vocabulary of the static encoder."""
        return [word for word in self._tokenizer.lcut(matching_copy(text).lower(), HMM=False) if _KEEP.fullmatch(word)]

    def tokens(self, text: str) -> list[str]:
        """Search-mode jieba tokens of the Simplified, lower-cased text, without stopwords and punctuation."""
        copy = matching_copy(text).lower()
        drop = stopwords()
        return [token for token in self._tokenizer.cut_for_search(copy, HMM=True)
                if _KEEP.fullmatch(token) and token not in drop]


@functools.cache
def segmenter() -> Segmenter:
    return Segmenter()
