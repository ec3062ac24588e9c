"""`policykb bench`: throughput and latency on a scale corpus recombined from the real documents.

The scale corpus: synthetic plans whose measures are 2–4 sentences drawn from the bundled corpus
and a responsibility marker drawn from its real markers, written as text files and ingested through
the whole pipeline. Reported per stage (read, structure, store + BM25, embed), then in-process query
latency p50/p95/p99 with the encoder's own time reported apart, each beside the raw cost of the same
work by the library alone (FTS5 MATCH, our BM25 arrays, faiss search, encoder), plus peak memory and
bytes per clause.
"""

from __future__ import annotations

import json
import os
import platform
import random
import resource
import time
from pathlib import Path


import numpy as np

from index import Searcher, Store, ingest_paths
from index.dense import embed_missing
from index.encoders import Encoder
from index.graph import graph_files
from index.lexical import lexical_files
from ingest import parse_document, read_source
from ingest.normalize import chinese_number

from .policy import load_questions

_CN = "一二三四五六七八九十"


def numeral(n: int) -> str:
    """1..99 as Chinese numerals (for headings; measures restart at （一） in each section)."""
    tens, ones = divmod(n, 10)
    text = ("" if tens < 2 else _CN[tens - 1]) + ("十" if tens else "") + (_CN[ones - 1] if ones else "")
    assert chinese_number(text) == n
    return text


def material(store: Store) -> tuple[list[str], list[str]]:
    """Sentences and markers of the store's clauses (the bundled corpus)."""
    sentences, markers = [], []
    tasks = store.task_markers()
    for _, text, _ in tasks:
        sentences += [part + "。" for part in text.split("。") if 10 <= len(part) <= 160]
    markers = [marker for _, _, marker in tasks]
    return sentences, markers


def write_scale_corpus(folder: Path, sentences: list[str], markers: list[str], units: int, seed: int = 7) -> int:
    """Plans of 10 sections × 10 measures; returns the number of files written."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    per_file = 100
    for index in range(units // per_file):
        lines = [f"合成实施方案第{index + 1}号", "为推进合成测试工作，制定本方案。"]
        for section in range(1, 11):
            lines.append(f"{numeral(section)}、合成章节{section}")
            for item in range(1, 11):
                body = "".join(rng.sample(sentences, rng.randint(2, 4)))
                lines.append(f"（{numeral(item)}）{body}{rng.choice(markers)}")
        (folder / f"scale_{index:05d}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return units // per_file


class _TimedSegmenter:
    """The store's segmenter, timing its `tokens` calls, so jieba's share of storing shows apart."""

    def __init__(self, inner, stages: dict[str, float]) -> None:
        self._inner, self._stages, self.fingerprint = inner, stages, inner.fingerprint

    def tokens(self, text: str) -> list[str]:
        start = time.perf_counter()
        try:
            return self._inner.tokens(text)
        finally:
            self._stages["segment"] += time.perf_counter() - start


def timed_ingest(store: Store, files: list[Path]) -> dict[str, float]:
    """Seconds per stage: read (file to paragraphs), structure (parse, markers, tags), segment (jieba
    for BM25), store_and_index (SQLite rows and FTS5, the transaction). Embedding is timed apart."""
    stages = {"read": 0.0, "structure": 0.0, "segment": 0.0, "store_and_index": 0.0}
    inner, store.segmenter = store.segmenter, _TimedSegmenter(store.segmenter, stages)
    try:
        for path in files:
            start = time.perf_counter()
            source = read_source(path)
            middle = time.perf_counter()
            document = parse_document(source)
            parsed = time.perf_counter()
            segmented = stages["segment"]
            store.put_document(document)
            stages["read"] += middle - start
            stages["structure"] += parsed - middle
            stages["store_and_index"] += time.perf_counter() - parsed - (stages["segment"] - segmented)
    finally:
        store.segmenter = inner
    return stages


def machine_description() -> str:
    return (f"{platform.machine()}, {platform.processor() or 'cpu'}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}")


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000  # noqa: E731
    return {"p50_ms": round(pick(0.50), 2), "p95_ms": round(pick(0.95), 2), "p99_ms": round(pick(0.99), 2)}


def query_latency(store: Store, searcher: Searcher, encoder: Encoder, rounds: int = 2) -> dict[str, dict]:
    queries = [question.query for question in load_questions()]
    total, encoding, fts, lexical, faiss_only = [], [], [], [], []
    for _ in range(rounds):
        for query in queries:
            start = time.perf_counter()
            searcher.search(query, k=10)
            total.append(time.perf_counter() - start)
            start = time.perf_counter()
            vector = encoder.encode_queries([query])[0]
            encoding.append(time.perf_counter() - start)
            start = time.perf_counter()
            searcher.bm25_fts5(query, 100)
            fts.append(time.perf_counter() - start)
            start = time.perf_counter()
            searcher.bm25(query, 100)
            lexical.append(time.perf_counter() - start)
            start = time.perf_counter()
            searcher.vectors.search(vector, 100)
            faiss_only.append(time.perf_counter() - start)
    excluding = [max(t - e, 0.0) for t, e in zip(total, encoding)]
    index, hits = searcher.vectors, []
    for query in queries:  # approximate (HNSW) against exact search, top 10
        vector = encoder.encode_queries([query])[0]
        exact = {int(index.ids[i]) for i in np.argsort(-(index.matrix @ vector))[:10]}
        hits.append(len(exact & {unit for unit, _ in index.search(vector, 10)}) / 10)
    return {"vector_index": index.kind, "vector_recall_at_10_vs_exact": round(sum(hits) / len(hits), 4),"search_excluding_encoder": percentiles(excluding), "encoder_alone": percentiles(encoding),
            "fts5_bm25_alone": percentiles(fts), "bm25_index_alone": percentiles(lexical),
            "faiss_alone": percentiles(faiss_only),
            "search_total": percentiles(total)}


def update_costs(store: Store, encoder: Encoder, folder: Path, sentences: list[str], markers: list[str]) -> dict:
    """Seconds to open the searcher after one document of the scale corpus is replaced by a new version
    (its vectors embedded first), and after it is deleted: the indexes are updated, not rebuilt."""
    write_scale_corpus(folder, sentences, markers, 100, seed=99)  # 合成实施方案第1号 again, other sentences
    (result,) = ingest_paths(store, sorted(folder.glob("*.txt")))
    embed_missing(store, encoder, batch_size=256)
    start = time.perf_counter()
    Searcher(store, encoder)
    replaced = time.perf_counter() - start
    store.delete_document(result.doc_id)
    start = time.perf_counter()
    Searcher(store, encoder)
    return {"replacing_a_document": round(replaced, 2), "deleting_it": round(time.perf_counter() - start, 2)}


def run_bench(source: Store, work: Path, encoder: Encoder, units: int, out: Path) -> dict:
    sentences, markers = material(source)
    files = sorted((work / "corpus").glob("*.txt"))
    if len(files) * 100 != units:
        write_scale_corpus(work / "corpus", sentences, markers, units)
        files = sorted((work / "corpus").glob("*.txt"))
    with Store.open(work / "home") as store:
        start = time.perf_counter()
        stages = timed_ingest(store, files)
        ingest_seconds = time.perf_counter() - start
        count = store.counts()
        start = time.perf_counter()
        embedded = embed_missing(store, encoder, batch_size=256)
        embed_seconds = time.perf_counter() - start
        sample = [passage for _, _, passage in store.unit_passages(limit=2000)]
        start = time.perf_counter()
        encoder.encode_passages(sample)
        raw_encoder_rate = len(sample) / (time.perf_counter() - start)
        start = time.perf_counter()
        Searcher(store, encoder)  # builds and saves the BM25 index
        build_seconds = time.perf_counter() - start
        start = time.perf_counter()
        searcher = Searcher(store, encoder)  # loads it
        open_seconds = time.perf_counter() - start
        latency = query_latency(store, searcher, encoder)
        size = sum(path.stat().st_size for path in (work / "home").glob("policykb.sqlite3*"))
        derived = {"lexical": sum(path.stat().st_size for path in lexical_files(work / "home"))}
        if graph := graph_files(work / "home", encoder.name):
            derived["vector graph"] = sum(path.stat().st_size for path in graph)
        updates = update_costs(store, encoder, work / "update", sentences, markers)
    pipeline_rate = count["units"] / (ingest_seconds + embed_seconds)
    result = {
        "machine": machine_description(),
        "encoder": encoder.name, "units": count["units"], "clauses": count["clauses"], "documents": count["documents"],
        "ingest_seconds_by_stage": {k: round(v, 2) for k, v in stages.items()},
        "ingest_units_per_second_without_embedding": round(count["units"] / ingest_seconds, 1),
        "embed_seconds": round(embed_seconds, 2), "embedded": embedded,
        "encoder_alone_units_per_second": round(raw_encoder_rate, 1),
        "pipeline_units_per_second": round(pipeline_rate, 1),
        "pipeline_over_encoder_ratio": round(pipeline_rate / raw_encoder_rate, 3),
        "searcher_first_open_seconds": round(build_seconds, 2), "searcher_open_seconds": round(open_seconds, 2),
        "latency": latency, "searcher_open_seconds_after": updates,
        "peak_memory_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "store_bytes_per_clause": round(size / count["clauses"], 1),  # SQLite: text, rows, FTS5, vectors
        "index_bytes_per_clause": {name: round(bytes_ / count["clauses"], 1) for name, bytes_ in derived.items()},
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / f"bench-{units // 1000}k.json").write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    return result


