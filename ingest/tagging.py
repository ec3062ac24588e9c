"""Clause annotations from text: topic and measure-type tags, numeric targets, citations."""

from __future__ import annotations

import functools
import re
from pathlib import Path

from .frontmatter import DOC_NUMBER
from .records import Citation, Target

_DATA = Path(__file__).parent / "data"
_YEAR = re.compile(r"(?:到|至|力争到|力争|争取到|争取|截至)(?P<year>20\d{2})年(?:底|末)?前?")
_VALUE = re.compile(
    r"(?P<verb>下降至|下降到|降至|降低到|降低至|达到|提高到|提高至|提升到|提升至|控制在|保持在|不低于|不少于|不超过|超过|"
    r"完成|新增|累计|建成|增长|下降|降低|提高|减少)?\s*(?P<value>\d+(?:\.\d+)?)\s*"
    r"(?P<unit>%|‰|万亩|亩|亿立方米|万立方米|立方米|万吨标准煤|吨标准煤|万吨|吨|亿元|万元|元|万千瓦|千瓦|亿千瓦时|"
    r"个百分点|个|家|座|公里|千米|万人|人|所|项|辆|平方米|万平方米|米|倍|天|小时|年)?"
    r"(?P<bound>以上|以内|以下|左右)?")
# Words around an indicator that are not part of it: 「力争实现建筑垃圾资源化利用率基本达到…」.
_INDICATOR_EDGES = re.compile(r"^(?:(?:力争|争取|确保|实现|全国|全省|全市|全区|使|推动|其中)\s*)+|(?:基本|均|分别|总体|稳定|要|将)+$")


@functools.cache
def _vocabulary() -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    rows = []
    for line in (_DATA / "tags.tsv").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            kind, tag, keywords = line.split("\t")
            rows.append((kind, tag, tuple(keywords.split("|"))))
    return tuple(rows)


def tag_clause(copy: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(topics, measure types) whose keywords occur in the clause's matching copy."""
    found = {"topic": [], "measure": []}
    for kind, tag, keywords in _vocabulary():
        if any(keyword in copy for keyword in keywords):
            found[kind].append(tag)
    return tuple(found["topic"]), tuple(found["measure"])


def extract_targets(original: str, copy: str) -> tuple[Target, ...]:
    """Targets like 「到2025年，全市煤炭占能源消费总量的比重下降至30%以内」 → (2025, 比重…, 30, %)."""
    targets = []
    for sentence_start, sentence_end in _sentences(copy):
        sentence = copy[sentence_start:sentence_end]
        year = _YEAR.search(sentence)
        if year is None:
            continue
        chunk_start = year.end()
        for chunk in re.finditer(r"[^,;、]+", sentence[chunk_start:]):
            target = _chunk_target(int(year.group("year")), chunk.group(), original[sentence_start:sentence_end])
            if target:
                targets.append(target)
    return tuple(targets)


def _chunk_target(year: int, chunk: str, sentence: str) -> Target | None:
    for match in _VALUE.finditer(chunk):
        if not match.group("verb") and not match.group("unit"):
            continue
        if match.group("unit") == "年" or (not match.group("unit") and 1990 <= float(match.group("value")) <= 2100):
            continue
        indicator = _INDICATOR_EDGES.sub("", chunk[:match.start()].strip(" ,:"))
        if len(indicator) < 2:
            continue
        unit = (match.group("unit") or "").replace("％", "%")
        return Target(year, indicator, match.group("value"), unit, sentence.strip())
    return None


def _sentences(copy: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for match in re.finditer(r"[。;!?\n]", copy):
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(copy)))
    return [span for span in spans if span[1] > span[0]]


def extract_citations(original: str, copy: str) -> tuple[Citation, ...]:
    """《…》 titles (with a following 第X条 when present) and 文号 references."""
    citations, seen = [], set()
    for match in re.finditer(r"《(?P<title>[^《》]{2,80})》(?P<article>第[一二三四五六七八九十百千零〇]+条)?", copy):
        printed = original[match.start():match.end()]
        if printed in seen:
            continue
        seen.add(printed)
        title = original[match.start("title"):match.end("title")]
        if match.group("article"):
            citations.append(Citation(printed, "article", title=title, article=match.group("article")))
        else:
            citations.append(Citation(printed, "title", title=title))
    for match in DOC_NUMBER.finditer(original):
        if match.group() not in seen:
            seen.add(match.group())
            citations.append(Citation(match.group(), "doc_number", doc_number=match.group()))
    return tuple(citations)
