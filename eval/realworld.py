"""Responsibility extraction on real documents we did not build the parser from.

`realworld/gold-*.tsv` annotates `../shared/corpus/realworld/` by hand (see `realworld/README.md`):
one row per marker with an anchor (a phrase of the task text), the units in printed order, the
lead(s), the support units and where the lead comes from. Each file is parsed as a user's upload
would be, and every gold item is matched to the parsed task whose text contains its anchor (the
shortest such task). Scores per item:

    found     a task with departments contains the anchor
    exact     its unit names, in order, are the gold ones (an elided place in [省] brackets is
              compared as printed; the place is scored apart as `place`)
    lead      its lead set is the gold lead set;  basis: the lead's basis (stated/rule/presumed) agrees
    place     for names printed without their place, the canonical name is at the level the
              brackets say ([省] provincial, [市] municipal, [区]/[县] district)
    none      a `none` item passes when no task with departments contains its anchor

`invented` counts department-bearing tasks whose text contains no gold anchor of their document
(the annotation is exhaustive, so these are units found where no marker is). Splits (`splits.tsv`)
keep the documents the parser was developed on apart from those only scored at the end.
"""

from __future__ import annotations

import collections
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from ingest import Document, PolicyKBError, ingest_file
from ingest.normalize import compact
from ingest.records import Task

logger = logging.getLogger(__name__)
GOLD_DIR = Path(__file__).parent / "realworld"
_LEVEL_OF_BRACKET = {"省": "provincial", "市": "municipal", "区": "district", "县": "district"}
_TRAILING = re.compile(r"等(?:有关|相关)?(?:部门和单位|部门|单位)?$")


@dataclass(frozen=True)
class GoldItem:
    file: str
    n: int
    style: str
    anchor: str
    departments: tuple[str, ...]  # as written in the gold, [省] brackets kept
    lead: frozenset[str]
    support: frozenset[str]
    basis: str
    deadline: str
    split: str


def key(text: str) -> str:
    """What anchors and task texts are compared on: the matching copy without spaces or punctuation."""
    return re.sub(r"[^\w]", "", compact(text))


def name_key(name: str) -> str:
    return _TRAILING.sub("", key(re.sub(r"\[[^\]]*\]", "", name)))


def split_names(text: str) -> list[str]:
    """Names separated by 、 outside brackets: 「各县（市、区）人民政府」 is one name."""
    names, depth, current = [], 0, ""
    for char in text:
        depth += char in "（(〈["
        depth -= char in "）)〉]"
        if char == "、" and depth == 0:
            names.append(current)
            current = ""
        else:
            current += char
    return [name for name in (*names, current) if name.strip()]


def load_gold(directory: Path = GOLD_DIR) -> list[GoldItem]:
    splits = dict(line.split("\t")[:2] for line in (directory / "splits.tsv").read_text(encoding="utf-8").splitlines()[1:]
                  if line.strip())
    items = []
    for path in sorted(directory.glob("gold-*.tsv")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip() or line.startswith("#"):
                continue
            cells = (line.split("\t") + [""] * 9)[:9]
            file, n, style, anchor, departments, lead, support, basis, deadline = (cell.strip() for cell in cells)
            items.append(GoldItem(file, int(n), style, anchor, tuple(split_names(departments)),
                                  frozenset(map(name_key, split_names(lead))),
                                  frozenset(map(name_key, split_names(support))), basis, deadline,
                                  splits.get(file, "dev")))
    return items


def _tasks(document: Document) -> list[Task]:
    return [task for clause in document.clauses for task in clause.tasks]


_IN_TEXT = frozenset({"sentence", "duty"})  # marker styles that assign their own sentence or paragraph


def _match(item: GoldItem, tasks: list[tuple[str, Task]]) -> Task | None:
    """The shortest task holding the item's anchor, among tasks of the item's family first: a closing
    marker's item is anchored at its measure's start, which may lie in a sentence with a marker of its own
    (「…由A牵头负责…。（牵头单位：A；责任单位：B）」 is two items)."""
    anchor = key(item.anchor)
    candidates = [((task.kind in _IN_TEXT) != (item.style in _IN_TEXT), len(text), index)
                  for index, (text, task) in enumerate(tasks) if anchor in text and task.departments]
    return tasks[min(candidates)[2]][1] if candidates else None


def score_items(items: list[GoldItem], corpus: Path) -> tuple[list[dict], dict[str, dict]]:
    """Per-item outcomes and per-file facts (parse errors, invented tasks)."""
    by_file: dict[str, list[GoldItem]] = collections.defaultdict(list)
    for item in items:
        by_file[item.file].append(item)
    outcomes, files = [], {}
    for file, file_items in sorted(by_file.items()):
        try:
            document = ingest_file(corpus / file)
        except PolicyKBError as error:
            logger.warning("%s: %s", file, error)
            files[file] = {"error": str(error), "invented": 0, "tasks": 0}
            outcomes += [_outcome(item, None) for item in file_items]
            continue
        tasks = [(key(task.text), task) for task in _tasks(document)]
        anchors = [key(item.anchor) for item in file_items]
        invented = [task for text, task in tasks if task.departments and not any(a in text for a in anchors)]
        files[file] = {"tasks": sum(1 for _, task in tasks if task.departments), "invented": len(invented),
                       "invented_examples": [task.marker[:60] for task in invented[:5]]}
        outcomes += [_outcome(item, _match(item, tasks)) for item in file_items]
    return outcomes, files


def _outcome(item: GoldItem, task: Task | None) -> dict:
    result = {"file": item.file, "n": item.n, "style": item.style, "split": item.split,
              "format": Path(item.file).suffix.lstrip(".")}
    if item.style == "none":
        return {**result, "none_ok": task is None}
    if task is None:
        return {**result, "found": False, "exact": False, "lead": False, "basis": False, "place": None}
    predicted = [name_key(department.name) for department in task.departments]
    gold = [name_key(name) for name in item.departments]
    leads = [department for department in task.departments if department.role == "lead"]
    bases = {department.lead_basis.value for department in leads if department.lead_basis}
    placed = [(name, department) for name, department in zip(item.departments, task.departments)
              if name.startswith("[") and name_key(name) == name_key(department.name)]
    place = all(department.level == _LEVEL_OF_BRACKET.get(name[1:name.index("]")], "")
                for name, department in placed) if placed else None
    return {**result, "found": True, "exact": predicted == gold,
            "lead": {name_key(department.name) for department in leads} == item.lead,
            "basis": bases == ({item.basis} if item.basis else set()), "place": place,
            "predicted": "、".join(department.name for department in task.departments),
            "predicted_lead": "、".join(department.name for department in leads)}


def summarise(outcomes: list[dict]) -> dict:
    scored = [outcome for outcome in outcomes if outcome["style"] != "none"]
    nones = [outcome for outcome in outcomes if outcome["style"] == "none"]
    placed = [outcome["place"] for outcome in scored if outcome["place"] is not None]

    def share(key_name: str) -> float | None:
        return round(sum(outcome[key_name] for outcome in scored) / len(scored), 4) if scored else None
    return {"items": len(scored), "found": share("found"), "exact": share("exact"), "lead": share("lead"),
            "basis": share("basis"), "place": round(sum(placed) / len(placed), 4) if placed else None,
            "place_items": len(placed), "none_items": len(nones),
            "none_ok": round(sum(outcome["none_ok"] for outcome in nones) / len(nones), 4) if nones else None}


def evaluate_realworld(corpus: Path, directory: Path = GOLD_DIR) -> dict:
    items = load_gold(directory)
    outcomes, files = score_items(items, corpus)
    result: dict = {"documents": len(files), "files": files}
    for split in ("dev", "test", "all"):
        chosen = [outcome for outcome in outcomes if split == "all" or outcome["split"] == split]
        invented = sum(files[file]["invented"] for file in {outcome["file"] for outcome in chosen})
        result[split] = {**summarise(chosen), "invented": invented,
                         "by_style": {style: summarise([o for o in chosen if o["style"] == style])
                                      for style in sorted({o["style"] for o in chosen})},
                         "by_format": {fmt: summarise([o for o in chosen if o["format"] == fmt])
                                       for fmt in sorted({o["format"] for o in chosen})},
                         "by_document": {file: summarise([o for o in chosen if o["file"] == file])
                                         for file in sorted({o["file"] for o in chosen})}}
    result["misses"] = {split: [outcome for outcome in outcomes if outcome["split"] == split and
                                (not outcome.get("exact", True) or not outcome.get("lead", True)
                                 or not outcome.get("none_ok", True))]
                        for split in ("dev", "test")}
    return result
