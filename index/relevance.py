"""Knowing when nothing matches: the evidence under a search's best results, and the floor under it.

Fused scores are ranks, not evidence: the best of nothing is still first. Two measures of evidence
are read instead:

- coverage: the share of the question's word weight (BM25 idf, question words left out) that the
  passage of one of the first results holds — a question about 驾照换证 holds words no passage has;
- cosine: the encoder's similarity of the question and its nearest passage (encoder-specific, so a
  floor is calibrated per encoder and an uncalibrated encoder is judged on coverage alone).

How much coverage answers depends on what was found. A plan's or policy document's measure is asked
about in its own words, so results of that kind must hold 0.24 of the question's weight; an article
of a law (第X条) is asked about by laypeople in words it does not use (「被亲戚偷了」 for 盗窃), and a
passage found by its vector alone need not share the question's words, so there 0.1 is enough.

A question that names a year none of the first results mentions (「2035年…」 over plans to 2025) is
not answered by them either. A search whose evidence is under both floors answers no clause
(«没有找到相关条款»). The floors were chosen so that no answerable question loses its answer: not one
of the policy set or the ranking set's development split, and 3 of STARD's 1,235 legal questions
(whose everyday words a law does not use) in a store of laws (eval/README.md «Relevance floor»).
Questions about departments or resolved references are structured matches and are never cut.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Iterable

from ingest.normalize import matching_copy

# Words that ask rather than name what is asked about: they carry no evidence either way.
_QUESTION_WORDS = frozenset("""
怎么 怎样 怎么样 如何 什么 哪些 哪个 哪里 哪儿 多少 几 吗 呢 吧 啊 么 咋 啥 是否 有没有 能不能 可以 可不可以 要不要
需要 应该 是不是 请问 我们 我 你们 谁 的 了 是 有 在 和 与 及 对 要 会 能 都 还 就 又 把 被 让 给 到 从 做 搞 弄 办
负责 牵头 落实 管 归 单位 部门 现在 目前 今年 具体 主要 一下 相关 方面 情况 工作 问题 规定 要求 措施 政策
""".split())


@dataclass(frozen=True)
class Relevance:
    coverage: float  # 0–1: the best share of the question's word weight one of the first results holds
    cosine: float | None  # the nearest passage's cosine similarity; None without vectors
    worded: bool = True  # the results were found by their words (BM25 took part), not by vectors alone
    law: bool = False  # one of the first results is an article of a law (第X条), asked about in everyday words


@dataclass(frozen=True)
class Floor:
    coverage: float  # over results found by their words in plans and policy documents
    cosine: dict[str, float] = field(default_factory=dict)  # encoder family (the name before «:») → floor
    lenient: float | None = None  # over articles of laws and results found by vectors alone (None: `coverage`)

    def needed(self, relevance: Relevance) -> float:
        """The coverage that answers: a law's article is asked about in words it does not use (「被亲戚
        偷了」 for 盗窃), and a passage found by its vector need not share the question's words."""
        weak = relevance.law or not relevance.worded
        return self.lenient if weak and self.lenient is not None else self.coverage

    def admits(self, relevance: Relevance, encoder_name: str | None) -> bool:
        """Coverage reaches the floor, or the cosine does (for an encoder this floor is calibrated for)."""
        if relevance.coverage >= self.needed(relevance):
            return True
        floor = self.cosine.get((encoder_name or "").split(":")[0])
        return floor is not None and relevance.cosine is not None and relevance.cosine >= floor


@dataclass(frozen=True)
class RelevanceFloor:
    """A search answers when its evidence reaches `floor` and every year it names is in a result."""

    floor: Floor = Floor(0.24, {"e5": 0.91}, lenient=0.1)
    results_read: int = 5  # how many of the first results coverage is read over

    def admits(self, relevance: Relevance, encoder_name: str | None) -> bool:
        return self.floor.admits(relevance, encoder_name)


NO_FLOOR = RelevanceFloor(Floor(0.0))


_YEAR = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")


def missing_years(question: str, results: Iterable[str]) -> tuple[str, ...]:
    """The years the question names (「2035年…」) that none of the results' texts mention: the results
    are about the subject, not about what is asked of it."""
    asked = dict.fromkeys(_YEAR.findall(question))
    found = {year for text in results for year in _YEAR.findall(text)}
    return tuple(year for year in asked if year not in found)


_NUMBER = r"[\d.零〇一二三四五六七八九十百千万两几]+"
# A question asking for an amount of a kind (how much money, how long, how many mu), and what a passage
# states when it gives one: 「罚多少钱」 is not answered by a plan that states no sum. The questions are
# matched on their jieba words joined by spaces, so a unit is a whole word (「多少天然气」 asks no time).
# A span of years is 「三年」「10年」, never a year of the calendar (「2025年」「二〇二五年」).
_QUANTITIES = (
    (re.compile(r"多少钱|罚\s*多少|罚款\S{0,2}\s*(标准|多少)|(补贴|奖励?|贴息|收费|费用?|价格|门票)\s*((?!比例|比重)\S+\s*){0,2}多少"
                r"|怎么\s*收费|(收费|补贴)\s*标准"),
     re.compile(rf"{_NUMBER}\s*(元|万元|亿元|倍)")),
    (re.compile(r"多久|多长\s*时间|(几|多少)\s*个?\s*(工作日|天|日|月)(?=\s|$)|几天"),
     re.compile(rf"{_NUMBER}\s*个?(工作日|日|天|个月|周|小时)|((?<!\d)\d{{1,2}}|(?<![〇零一二三四五六七八九十\d])[一二三四五六七八九十两半]+)\s*个?年(?!度)")),
    (re.compile(r"多少\s*(万\s*)?亩(?=\s|$)"), re.compile(rf"{_NUMBER}\s*(万)?亩")),
)


def missing_quantity(question_words: str, results: Iterable[str]) -> bool:
    """The question (its words, space-separated) asks for an amount of a kind — a sum, a time limit, an
    area — that none of the results states: they are about its subject, not about what is asked of it."""
    texts: list[str] | None = None
    for asked, stated in _QUANTITIES:
        if asked.search(question_words):
            texts = [matching_copy(text) for text in results] if texts is None else texts  # 萬畝 → 万亩
            if not any(stated.search(text) for text in texts):
                return True
    return False


def content_terms(query_terms: Iterable[str]) -> list[str]:
    """The question's terms less the words that only ask (怎么, 哪些, 负责…) and lone punctuation."""
    return [term for term in dict.fromkeys(query_terms) if term not in _QUESTION_WORDS and re.search(r"\w", term)]


def coverage(terms: list[str], passages: Iterable[set[str]], idf: Callable[[str], float]) -> float:
    """The largest share of the terms' idf weight that one passage's terms hold (1.0 for no terms)."""
    weights = {term: idf(term) for term in terms}
    total = sum(weights.values())
    if not total:
        return 1.0
    return max((sum(weight for term, weight in weights.items() if term in held) / total for held in passages),
               default=0.0)
