"""The character-bigram BM25 baseline: no segmenter, no dictionary, Simplified matching copy only."""

from __future__ import annotations

import math
from collections import Counter, defaultdict

from ingest.normalize import matching_copy


def bigrams(text: str) -> list[str]:
    copy = "".join(char for char in matching_copy(text).lower() if char.isalnum())
    return [copy[i:i + 2] for i in range(len(copy) - 1)]


class BigramBM25:
    """Okapi BM25 (k1 = 1.2, b = 0.75) over character bigrams, in memory."""

    def __init__(self, documents: dict[int, str], k1: float = 1.2, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        self.lengths: dict[int, int] = {}
        for key, text in documents.items():
            grams = Counter(bigrams(text))
            self.lengths[key] = sum(grams.values())
            for gram, count in grams.items():
                self.postings[gram].append((key, count))
        self.average = sum(self.lengths.values()) / max(len(self.lengths), 1)

    def search(self, query: str, limit: int) -> list[tuple[int, float]]:
        scores: dict[int, float] = defaultdict(float)
        total = len(self.lengths)
        for gram in set(bigrams(query)):
            postings = self.postings.get(gram, [])
            idf = math.log(1 + (total - len(postings) + 0.5) / (len(postings) + 0.5))
            for key, count in postings:
                norm = self.k1 * (1 - self.b + self.b * self.lengths[key] / self.average)
                scores[key] += idf * count * (self.k1 + 1) / (count + norm)
        return sorted(scores.items(), key=lambda item: -item[1])[:limit]
