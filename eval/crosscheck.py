"""The cross-level check against the annotated twins: the threshold under which a measure has no
counterpart («无对应措施»), chosen on the development split, and precision and recall of its decisions.

The gold is `ranking/twins.tsv`: a row's clauses (W = 武汉市, H = 湖北省, N = national plan) carry one
measure, so each is the counterpart of the others in their documents; a clause on no row has none
(the header names N.s1, N.s2.p2 and N.s8.p28). One decision per measure (a clause with tasks) of each
plan and each related plan: its counterpart there, or none. The split follows the ranking set's: the 9
W measures `random.Random(15).sample` draws (ranking/README.md) and every clause on their rows are
`test`; the clauses on no row, the only gold «无对应措施», are held out in `test` too.

- has a counterpart: precision = decisions naming a gold counterpart / decisions naming one; recall =
  the same / decisions whose gold has one (a wrong clause counts against both);
- 无对应措施: precision = gold none / decisions of none; recall = decisions of none / gold none;
- missing (上级有、本级无): the higher plans' measures `missing_measures` lists, against those with no
  gold counterpart in the lower plan.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

from index import Store
from index.crosscheck import THRESHOLD, cross_check, missing_measures

from .policy import DOCUMENTS, clause_id
from .ranking import TWINS

PLANS = ("W", "H", "N")  # lower to higher level
SPLITS = ("dev", "test", "all")


@dataclass(frozen=True)
class Decision:
    clause_id: str
    other: str  # the related document
    split: str
    gold: frozenset[str]  # its counterparts there; empty: 无对应措施
    found: str | None  # the closest clause there (any similarity)
    similarity: float


def load_counterparts(path: Path = TWINS) -> tuple[dict[str, set[str]], set[str]]:
    """(clause id → the clause ids sharing a row with it, the clause ids on test rows)."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            first, provincial, national = (line.split("\t") + ["", ""])[:3]
            rows.append((first, [first] * (first != "-") + provincial.split() + national.split()))
    drawn = set(random.Random(15).sample([first for first, _ in rows if first != "-"], 9))
    together: dict[str, set[str]] = {}
    test: set[str] = set()
    for first, members in rows:
        ids = {clause_id(member) for member in members}
        for member in ids:
            together.setdefault(member, set()).update(ids - {member})
        if first in drawn:
            test |= ids
    return together, test


def decisions(store: Store, path: Path = TWINS) -> list[Decision]:
    """Every measure of the three plans against each other plan, with its closest clause at any similarity."""
    together, test = load_counterparts(path)
    found = []
    for alias in PLANS:
        others = [DOCUMENTS[other] for other in PLANS if other != alias]
        for row in cross_check(store, DOCUMENTS[alias], others, threshold=0.0):
            split = "test" if row.clause_id in test or row.clause_id not in together else "dev"
            for other, match in zip(others, row.counterparts):
                gold = frozenset(item for item in together.get(row.clause_id, ()) if item.startswith(f"{other}."))
                found.append(Decision(row.clause_id, other, split, gold, match and match.clause_id,
                                      match.similarity if match else 0.0))
    return found


def scores(chosen: list[Decision], threshold: float) -> dict[str, float]:
    """Precision and recall of «has a counterpart» and of «无对应措施» at `threshold`."""
    named = [item for item in chosen if item.found is not None and item.similarity >= threshold]
    none = [item for item in chosen if item not in named]
    right = sum(item.found in item.gold for item in named)
    with_gold = sum(bool(item.gold) for item in chosen)
    without = sum(not item.gold for item in chosen)
    ratio = lambda part, whole: part / whole if whole else None  # noqa: E731
    return {"decisions": len(chosen), "gold none": without,
            "counterpart precision": ratio(right, len(named)), "counterpart recall": ratio(right, with_gold),
            "none precision": ratio(sum(not item.gold for item in none), len(none)),
            "none recall": ratio(sum(not item.gold for item in none), without),
            "accuracy": (right + sum(not item.gold for item in none)) / len(chosen)}


def choose_threshold(dev: list[Decision]) -> float:
    """The threshold of highest F1 of «has a counterpart» on `dev` (a wrong clause named is a false
    positive, so the threshold rises past the similarities of wrong best candidates): the middle of the
    run of best candidates' similarities it may lie in, rounded to 3 places."""
    values = sorted({0.0, *(item.similarity for item in dev), 1.0})
    gaps = [(low + high) / 2 for low, high in zip(values, values[1:])]
    f1 = {gap: _f1(scores(dev, gap)) for gap in gaps}
    tied = [gap for gap in gaps if f1[gap] == max(f1.values())]
    low = max(value for value in values if value < tied[0])
    high = min(value for value in values if value > tied[-1])
    return round((low + high) / 2, 3)


def _f1(result: dict[str, float]) -> float:
    precision, recall = result["counterpart precision"] or 0.0, result["counterpart recall"] or 0.0
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def missing_scores(store: Store, threshold: float, path: Path = TWINS) -> dict[str, float | list[str]]:
    """The 上级有、本级无 lists of the W and H plans against the gold (all splits together: 5 documents pairs)."""
    together, _ = load_counterparts(path)
    listed, gold = set(), set()
    for position, alias in enumerate(PLANS[:-1]):
        here, higher = DOCUMENTS[alias], [DOCUMENTS[other] for other in PLANS[position + 1:]]
        listed |= {(here, item.clause_id) for item in missing_measures(store, here, higher, threshold)}
        for other in higher:
            measures = [clause.id for clause in store.document(other).clauses if clause.tasks]
            gold |= {(here, item) for item in measures
                     if not any(twin.startswith(f"{here}.") for twin in together.get(item, ()))}
    right = len(listed & gold)
    return {"listed": len(listed), "gold": len(gold),
            "precision": right / len(listed) if listed else None, "recall": right / len(gold) if gold else None,
            "items": sorted(f"{here} ← {item}" for here, item in listed)}


def evaluate_crosscheck(store: Store, path: Path = TWINS) -> dict:
    """The threshold chosen on dev, the scores of each split at it and at the shipped `THRESHOLD`."""
    found = decisions(store, path)
    chosen = choose_threshold([item for item in found if item.split == "dev"])
    by_split = {split: [item for item in found if split == "all" or item.split == split] for split in SPLITS}
    return {"chosen threshold": chosen, "shipped threshold": THRESHOLD,
            "scores": {split: scores(items, THRESHOLD) for split, items in by_split.items()},
            "missing": missing_scores(store, THRESHOLD, path),
            "errors": [f"{item.clause_id} → {item.other}: {item.found} ({item.similarity:.3f}), gold "
                       f"{sorted(item.gold) or '无'}" for item in found
                       if (item.found if item.similarity >= THRESHOLD else None) not in (item.gold or {None})]}


def run_crosscheck_eval(store: Store, out: Path) -> dict:
    """`policykb eval --set crosscheck`: the result as out/crosscheck.json."""
    result = evaluate_crosscheck(store)
    out.mkdir(parents=True, exist_ok=True)
    (out / "crosscheck.json").write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    return result


def crosscheck_table(result: dict) -> str:
    """A markdown table of `evaluate_crosscheck`: a row per split, then the missing list and the errors."""
    cell = lambda value: "—" if value is None else f"{value:.3f}"  # noqa: E731
    lines = [f"Threshold {result['shipped threshold']} (chosen on dev: {result['chosen threshold']})", "",
             "| split | decisions | gold none | counterpart P | counterpart R | 无对应措施 P | 无对应措施 R |",
             "|---|---|---|---|---|---|---|"]
    for split, values in result["scores"].items():
        lines.append(f"| {split} | {values['decisions']} | {values['gold none']} | {cell(values['counterpart precision'])} "
                     f"| {cell(values['counterpart recall'])} | {cell(values['none precision'])} "
                     f"| {cell(values['none recall'])} |")
    missing = result["missing"]
    lines += ["", f"上级有、本级无: {missing['listed']} listed, {missing['gold']} in the gold, precision "
              f"{cell(missing['precision'])}, recall {cell(missing['recall'])}", *missing["items"], "",
              "Wrong decisions:", *result["errors"]]
    return "\n".join(lines)
