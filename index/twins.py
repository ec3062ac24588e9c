"""Twins: near-identical measures in different documents, found when a document is stored.

The national, provincial and city plans on one subject repeat their measures nearly word for word
(「强化生态环境分区管控…」 at three levels); a document ingested twice (HTML and PDF) repeats all of
them. A twin link lets search return such measures as one result with their levels side by side.

    clause text ─► matching copy, letters and digits only ─► character 3-gram set
                ─► MinHash (32 permutations) ─► 32 band keys, one per permutation

Two clauses sharing a band are candidates (the store keeps every clause's bands in `twin_bands`);
a candidate is a twin when the 3-gram sets really are close (`TwinRule`). Each permutation's minimum
is shared with probability equal to the Jaccard similarity, so the number of shared keys estimates
it: a clause weighs the candidates sharing the most, and a pair of similarity 0.1 shares at least
one key with probability 1 − 0.9³² ≈ 0.97 (Broder 1997; Leskovec et al., *Mining of Massive
Datasets*, ch. 3). The national, provincial and city versions of one measure share 10–90 % of their
3-grams; measures on the same subject that are not the same measure share under 8 %
(eval/ranking/twins.tsv, eval/README.md «Twins»).
"""

from __future__ import annotations

import hashlib
import re
import zlib
from dataclasses import dataclass

import numpy as np

from ingest.normalize import matching_copy

SHINGLE = 3
BANDS, ROWS = 32, 1
_PRIME = 4294967311  # the first prime above 2³²; with a < 2³¹ and 32-bit x, a·x + b stays below 2⁶⁴
# The permutations' (a, b), derived from fixed labels (not a random generator, whose stream may change
# between numpy versions): stored keys must mean the same to every later version of the program.
def _coefficient(label: str) -> int:
    return 1 + int.from_bytes(hashlib.blake2b(label.encode(), digest_size=4).digest(), "little") % (2**31 - 1)


_RANDOM = np.array([[_coefficient(f"{part}{i}") for i in range(BANDS * ROWS)] for part in "ab"], dtype=np.uint64)
_NOT_TEXT = re.compile(r"[^0-9a-z\u4e00-\u9fff]+")
_NUMBERING = re.compile(r"^\s*([（(]?[一二三四五六七八九十百\d]+[)）、.．]|第[一二三四五六七八九十百零〇\d]+[条章节款项])\s*")

# Clause kinds that carry measures; front and back matter (notice, preamble, signature) and bare
# chapter headings are never twins.
TWIN_KINDS = frozenset({"item", "section", "point", "subpoint", "article", "attachment"})


@dataclass(frozen=True)
class TwinRule:
    """When two candidate clauses are twins, on the Jaccard similarity of their 3-gram sets: documents at
    different levels from `jaccard` (a city plan rewrites the provincial measure it carries out), at the
    same level from `same_level` (near-identical: the same measure ingested or issued twice)."""

    jaccard: float = 0.1
    same_level: float = 0.8
    min_shingles: int = 30  # shorter clauses (「加强组织领导」) share words, not measures
    min_shared: int = 30  # two short paragraphs sharing one sentence (「中国特色高水平高职学校」) are not one measure

    def similarity(self, first: frozenset[str], second: frozenset[str], same_level: bool) -> float | None:
        """The Jaccard similarity when the pair is twins under this rule, else None."""
        shared = len(first & second)
        if shared < self.min_shared:
            return None
        jaccard = shared / len(first | second)
        return jaccard if jaccard >= (self.same_level if same_level else self.jaccard) else None


def shingles(text: str) -> frozenset[str]:
    """The clause's character 3-grams (numbering, punctuation and spaces dropped)."""
    letters = _NOT_TEXT.sub("", _NUMBERING.sub("", matching_copy(text)).lower())
    return frozenset(letters[i:i + SHINGLE] for i in range(len(letters) - SHINGLE + 1))


def bands(grams: frozenset[str]) -> list[int]:
    """The LSH band keys of a 3-gram set: BANDS signed 64-bit integers (SQLite INTEGER), from the
    3-grams' CRC-32 (stable across processes, as stored keys must be)."""
    values = np.fromiter((zlib.crc32(gram.encode("utf-8")) for gram in grams), dtype=np.uint64, count=len(grams))
    signature = ((values[:, None] * _RANDOM[0] + _RANDOM[1]) % np.uint64(_PRIME)).min(axis=0)
    keys = []
    for band in range(BANDS):
        digest = hashlib.blake2b(bytes([band]) + signature[band * ROWS:(band + 1) * ROWS].tobytes(), digest_size=8)
        keys.append(int.from_bytes(digest.digest(), "little", signed=True))
    return keys
