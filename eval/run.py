"""`policykb eval`: run every system over the policy question set and write the table and runs.

Systems: bm25 (jieba + FTS5), dense (the store's encoder vectors), hybrid (RRF of both with query
understanding), bigram (character-bigram BM25, no segmenter: the baseline). A run writes `policy.json`
and `policy.md`, runs (top 10) in TREC format under `runs/`, the questions as TREC topics
(`policy-queries.tsv`) and judgements (`policy-qrels.txt`), so the runs can be scored by trec_eval as
well, into its own folder: `--out DIR`, else `eval/` in the data directory. `eval/results/` holds the
recorded baseline that the tests compare against (pyserini's expected scores); a run never writes there
unless asked to with `policykb eval --record`.
"""

from __future__ import annotations

import json
import platform
from datetime import date
from pathlib import Path

from index import Searcher, Store
from index.encoders import Encoder
from index.search import FusionWeights
from ingest import PolicyKBError

from .bigram import BigramBM25
from .metrics import Result
from .policy import System, evaluate, question_count_by_type, trec_run, write_qrels, write_queries

RESULTS = Path(__file__).parent / "results"  # the recorded baseline: replaced only by `policykb eval --record`
CACHE = Path(__file__).parent / "cache"
COLUMNS = ("R@1", "R@5", "R@10", "R@100", "MRR@10", "nDCG@10")


def output_folder(home: Path, out: Path | None, record: bool) -> Path:
    """Where an eval run writes: the baseline folder when recording, else `out`, else `home`/eval."""
    if record:
        return RESULTS
    if out is not None and out.resolve() == RESULTS.resolve():
        raise PolicyKBError(f"{out} 是测试对照的基线：要替换它请用 policykb eval --record，否则换一个 --out 目录")
    return out if out is not None else home / "eval"


def recorded_scores(path: Path) -> dict[str, dict]:
    """The systems of a recorded policy.json (the baseline), or none when there is no such file."""
    return json.loads(path.read_text(encoding="utf-8"))["systems"] if path.is_file() else {}


def drift_from_baseline(results: dict[str, dict], baseline: dict[str, dict]) -> list[str]:
    """One line per clause-level score that differs from the `baseline` systems by 0.001 or more."""
    lines = []
    for system, result in results.items():
        for column in COLUMNS if system in baseline else ():
            now, then = result["clause"][column], baseline[system]["clause"][column]
            if abs(now - then) >= 0.001:
                lines.append(f"{system}\t{column}\t{now:.3f}（基线 {then:.3f}，{now - then:+.3f}）")
    return lines


def bigram_system(store: Store) -> System:
    units = store.unit_passages()
    index = BigramBM25({unit: passage for unit, _, passage in units})
    clause_of = {unit: clause for unit, clause, _ in units}

    def search(query: str, depth: int) -> list[str]:
        ranked = [clause_of[unit] for unit, _ in index.search(query, depth * 4)]
        return list(dict.fromkeys(ranked))[:depth]
    return search


def searcher_system(searcher: Searcher, mode: str) -> System:
    """The results in order: a clause, or a clause with its twins (one result, its levels side by side)."""
    def search(query: str, depth: int) -> list[Result]:
        return [(hit.clause_id, *(twin.clause_id for twin in hit.twins)) if hit.twins else hit.clause_id
                for hit in searcher.search(query, k=depth, mode=mode)]
    return search


def systems_for(store: Store, encoder: Encoder | None, modes: tuple[str, ...],
                weights: FusionWeights = FusionWeights()) -> dict[str, System]:
    searcher = Searcher(store, encoder, weights)
    systems: dict[str, System] = {}
    for mode in modes:
        if mode == "bigram":
            systems[mode] = bigram_system(store)
        elif mode == "bm25" or encoder is not None:
            systems[mode] = searcher_system(searcher, mode)
    return systems


def score_table(scores: dict[str, dict[str, float]], who: dict[str, float] | None = None) -> str:
    """A markdown table, one row per system, the COLUMNS metrics and optionally «谁负责» accuracy."""
    header = "| system | " + " | ".join(COLUMNS) + (" | who lead |" if who else " |")
    lines = [header, "|---" * (len(COLUMNS) + (2 if who else 1)) + "|"]
    for system, row in scores.items():
        cells = " | ".join(f"{row[column]:.3f}" for column in COLUMNS)
        lines.append(f"| {system} | {cells} |" + (f" {who[system]:.3f} |" if who else ""))
    return "\n".join(lines)


def markdown_table(results: dict[str, dict], level: str) -> str:
    return score_table({system: result[level] for system, result in results.items()},
                       {system: result["who_lead_accuracy"] for system, result in results.items()})


def write_results(results: dict[str, dict], store: Store, encoder: Encoder | None, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    (out / "runs").mkdir(exist_ok=True)
    counts = store.counts()
    summary = {
        "date": date.today().isoformat(), "machine": f"{platform.machine()}, {platform.python_version()}",
        "encoder": encoder.name if encoder else None, "questions": question_count_by_type(),
        "collection": {"documents": counts["documents"], "clauses": counts["clauses"], "units": counts["units"]},
        "systems": {name: {key: value for key, value in result.items() if key != "runs"}
                    for name, result in results.items()},
    }
    (out / "policy.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    markdown = (f"# Policy question set ({sum(summary['questions'].values())} questions)\n\n"
                f"Collection: {counts['documents']} documents, {counts['clauses']} clauses, {counts['units']} units; "
                f"encoder {summary['encoder']}; {summary['date']}.\n\n## Clause level\n\n"
                f"{markdown_table(results, 'clause')}\n\n## Document level\n\n{markdown_table(results, 'document')}\n")
    (out / "policy.md").write_text(markdown, encoding="utf-8")
    write_queries(out / "policy-queries.tsv")
    write_qrels(store, out / "policy-qrels.txt")
    for name, result in results.items():
        top = {qid: ranked[:10] for qid, ranked in result["runs"].items()}
        (out / "runs" / f"policy-{name}.trec").write_text(trec_run(top, name), encoding="utf-8")
    return out / "policy.md"


def run_policy_eval(store: Store, encoder: Encoder | None, modes: tuple[str, ...], out: Path,
                    weights: FusionWeights = FusionWeights()) -> dict:
    results = evaluate(store, systems_for(store, encoder, modes, weights))
    write_results(results, store, encoder, out)
    return results


def run_stard_eval(store: Store, encoder: Encoder | None, modes: tuple[str, ...], path: Path,
                   out: Path, weights: FusionWeights = FusionWeights()) -> dict:
    """STARD over the laws in `store`; writes stard.json and stard.md."""
    from .stard import evaluate_stard

    results = evaluate_stard(store, systems_for(store, encoder, modes, weights), path)
    counts = store.counts()
    results.update(date=date.today().isoformat(), encoder=encoder.name if encoder else None,
                   collection={"documents": counts["documents"], "clauses": counts["clauses"], "units": counts["units"]})
    out.mkdir(parents=True, exist_ok=True)
    (out / "stard.json").write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    encoder_line = f"Encoder {results['encoder'] or 'none (lexical systems only)'}; {results['date']}."
    markdown = (f"# STARD train split ({results['questions']} questions, {counts['documents']} laws, "
                f"{counts['clauses']} clauses)\n\n{encoder_line}\n\n## Article level\n\n"
                f"{score_table(results['systems'])}\n\n## Law level\n\n{score_table(results['law_level'])}\n")
    (out / "stard.md").write_text(markdown, encoding="utf-8")
    return results


def run_ranking_eval(store: Store, encoder: Encoder | None, modes: tuple[str, ...], out: Path,
                     weights: FusionWeights = FusionWeights()) -> dict:
    """The ranking question set (eval/ranking) over a store holding the bundled corpus and the 2026 work
    reports; writes ranking.json and ranking.md (per split, with and without the locality) with the twin
    links' precision and recall against eval/ranking/twins.tsv."""
    from .ranking import evaluate_ranking, load_ranking_questions, ranking_table, twin_scores

    dev = set().union(*(q.relevant for q in load_ranking_questions() if q.split == "dev"))
    results = {"date": date.today().isoformat(), "encoder": encoder.name if encoder else None,
               "systems": evaluate_ranking(store, encoder, modes, weights),
               "twins": {"dev": twin_scores(store, dev), "all": twin_scores(store)}}
    out.mkdir(parents=True, exist_ok=True)
    (out / "ranking.json").write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    twins = "\n".join(f"| {split} | {row['pairs']} | {row['found']} | {row['precision']:.3f} | {row['recall']:.3f} |"
                       for split, row in results["twins"].items())
    tables = "\n\n".join(f"## {split}\n\n{ranking_table(results['systems'], split)}" for split in ("dev", "test", "all"))
    (out / "ranking.md").write_text(
        f"# Ranking question set\n\nEncoder {results['encoder']}; {results['date']}.\n\n{tables}\n\n"
        f"## Twin links against eval/ranking/twins.tsv\n\n| split | pairs | found | precision | recall |\n"
        f"|---|---|---|---|---|\n{twins}\n", encoding="utf-8")
    return results


def run_answers_eval(store: Store, encoder: Encoder | None, out: Path) -> dict:
    """The answer block's lead on the «谁负责» questions (eval/answers.py); writes answers.json and .md."""
    from .answers import answers_table, evaluate_answers

    results = {"date": date.today().isoformat(), "encoder": encoder.name if encoder else None,
               "documents": len(store.document_titles()), "localities": evaluate_answers(store, encoder)}
    out.mkdir(parents=True, exist_ok=True)
    (out / "answers.json").write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (out / "answers.md").write_text(
        f"# Answer block on «谁负责» questions\n\nEncoder {results['encoder']}; {results['documents']} documents; "
        f"{results['date']}.\n\n{answers_table(results['localities'])}\n", encoding="utf-8")
    return results


def run_attribution_eval(store: Store, out: Path) -> dict:
    """Department attribution against the hand gold; writes attribution.json."""
    from .attribution import evaluate_attribution

    result = evaluate_attribution(store)
    out.mkdir(parents=True, exist_ok=True)
    (out / "attribution.json").write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return result


def run_realworld_eval(corpus: Path, out: Path) -> dict:
    """Responsibility extraction on ../shared/corpus/realworld against eval/realworld/gold-*.tsv;
    writes realworld.json and the per-style / per-format table realworld.md."""
    from .realworld import evaluate_realworld

    result = evaluate_realworld(corpus)
    out.mkdir(parents=True, exist_ok=True)
    (out / "realworld.json").write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (out / "realworld.md").write_text(realworld_table(result) + "\n", encoding="utf-8")
    return result


def realworld_table(result: dict) -> str:
    """Items, exact departments in order, lead, basis per split and per marker style and format."""
    lines = ["| split | group | items | exact | lead | basis | none ok | invented |", "|---|---|---|---|---|---|---|---|"]

    def cell(value: float | None) -> str:
        return "—" if value is None else f"{value:.3f}"
    for split in ("dev", "test", "all"):
        block = result[split]
        groups = [("all", block), *((f"style {k}", v) for k, v in block["by_style"].items()),
                  *((f"format {k}", v) for k, v in block["by_format"].items())]
        for label, row in groups:
            items = f"{row['items']}" + (f" + {row['none_items']} none" if row["none_items"] else "")
            lines.append(f"| {split} | {label} | {items} | {cell(row['exact'])} | {cell(row['lead'])} | "
                         f"{cell(row['basis'])} | {cell(row['none_ok'])} | {block['invented'] if label == 'all' else ''} |")
    return "\n".join(lines)
