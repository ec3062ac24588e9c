"""The answer block of «谁负责» questions: is its lead the unit the document names?

Two question sets, both written by reading the documents (their gold: the clause and its lead as
printed in its marker):
- the policy set's `who` questions (eval/policy/questions.tsv), which mostly name 武汉; each is also
  asked with the place removed («武汉装配式建筑推广谁牵头» → «装配式建筑推广谁牵头»), as staff type it;
- the ranking set's questions with a lead (eval/ranking/questions.tsv), `asked` (no place) and `named`,
  in its dev and test splits. The answer block was built without looking at the ranking set's test
  split;
- answers/heldout.tsv, written by a helper session from the documents after the block was built and
  scored once (`asked` about the Wuhan plan, `named` about the Wuhan, Hubei, national plans and State
  Council documents): the questions it was not developed on.

Each is answered with and without the deployment's locality (武汉市). Reported: the share of questions
with an answer block, whose lead is the expected unit (compared as compact Simplified names), whose
answer comes from the gold clause, and whose expected lead is in the block at all (the first result's
or one of the levels shown with it: without a locality, a question that names no place is answered
from the national plan, with Wuhan's assignment beside it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from index import Searcher, Store
from index.answer import build_answer
from index.encoders import Encoder
from index.search import SearchMode
from ingest.normalize import compact

from .policy import QUESTIONS as POLICY_QUESTIONS, clause_id, load_questions
from .ranking import LOCALITY, QUESTIONS as RANKING_QUESTIONS

HELDOUT = Path(__file__).parent / "answers" / "heldout.tsv"
_PLACE = re.compile(r"武汉市|武漢市|武汉|武漢")


@dataclass(frozen=True)
class WhoQuestion:
    qid: str
    group: str  # policy-named, policy-asked, ranking-asked-dev, ranking-asked-test, …
    query: str
    clause: str  # the gold clause id
    lead: str  # its lead as printed, Simplified


def who_questions(policy: Path = POLICY_QUESTIONS, ranking: Path = RANKING_QUESTIONS,
                  heldout: Path = HELDOUT) -> list[WhoQuestion]:
    questions = []
    for question in load_questions(policy):
        if question.type != "who" or not question.leads:
            continue
        clause, lead = question.leads[0]
        questions.append(WhoQuestion(question.qid, "policy-named", question.query, clause, lead))
        asked = _PLACE.sub("", question.query).strip()
        if asked != question.query:
            questions.append(WhoQuestion(question.qid + "-asked", "policy-asked", asked, clause, lead))
    for line in ranking.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        qid, split, kind, query, _, leads = (line.split("\t") + [""] * 6)[:6]
        if leads:
            short, lead = leads.split(";")[0].split("=")
            questions.append(WhoQuestion(qid, f"ranking-{kind}-{split}", query, clause_id(short), lead))
    for line in heldout.read_text(encoding="utf-8").splitlines() if heldout.is_file() else ():
        if line.strip() and not line.startswith("#"):
            qid, kind, query, clause, lead = line.split("\t")[:5]
            questions.append(WhoQuestion(qid, f"heldout-{kind}", query, clause, lead))
    return questions


def evaluate_answers(store: Store, encoder: Encoder | None, mode: SearchMode = SearchMode.HYBRID) -> dict:
    """{locality: {group: {questions, answered, lead, clause}}}, the groups also pooled as `all`."""
    questions = who_questions()
    results: dict[str, dict[str, dict[str, float]]] = {}
    for locality in ("", LOCALITY):
        searcher = Searcher(store, encoder, locality=locality)
        outcomes: dict[str, list[tuple[bool, bool, bool, bool]]] = {}
        for question in questions:
            answer = build_answer(store, searcher.places, question.query,
                                  searcher.find(question.query, 10, mode=mode).hits)
            leads = {compact(unit.name) for unit in answer.main.leads} if answer else set()
            shown = {compact(unit.name) for item in answer.levels for unit in item.leads} if answer else set()
            row = (answer is not None, compact(question.lead) in leads,
                   answer is not None and answer.main.clause_id == question.clause, compact(question.lead) in leads | shown)
            for group in {question.group, question.group.rsplit("-", 1)[0], "all"}:
                outcomes.setdefault(group, []).append(row)
        results[locality or "none"] = {group: {"questions": len(rows),
                                               "answered": sum(r[0] for r in rows) / len(rows),
                                               "lead": sum(r[1] for r in rows) / len(rows),
                                               "clause": sum(r[2] for r in rows) / len(rows),
                                               "in_levels": sum(r[3] for r in rows) / len(rows)}
                                       for group, rows in sorted(outcomes.items())}
    return results


def answers_table(results: dict) -> str:
    lines = ["| locality | questions | n | answered | lead correct | from the gold clause | lead among the levels shown |",
             "|---|---|---|---|---|---|---|"]
    for locality, groups in results.items():
        for group, row in groups.items():
            lines.append(f"| {locality} | {group} | {row['questions']} | {row['answered']:.3f} | {row['lead']:.3f} | "
                         f"{row['clause']:.3f} | {row['in_levels']:.3f} |")
    return "\n".join(lines)
