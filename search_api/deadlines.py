"""完成时限 and 目标指标 of a task, read from its text by grammar, for the 督查台账 (exports.py).

A deadline is a year the text puts a limit on, never a year it only mentions:
- a preposition of limit before the year: 「到2025年」「至2023年底」「于2024年6月底前」「截至2025年」;
- or a limit word after it: 「2025年底前」「2023年底之前」「2024年上半年」「2025年6月底」「2025年内」;
- a plan period with its limit word: 「“十四五”期间」「十四五末」;
- failing those, an ongoing duty as printed: 「长期坚持」「持续推进」.
「比2020年下降18%」 (a baseline) or 「2023年起」 (a start) are not deadlines. Dates are written as printed
from the year on, the preposition dropped. A target is written 「2025年 煤炭占能源消费总量的比重 ≤30%」,
its comparison read from the words around the value (下降至…以内 → ≤, 达到…以上 → ≥).
"""

from __future__ import annotations

import re

from ingest import Target
from ingest.normalize import compact, matching_copy

_YEAR = r"(?:(?:19|20)\d{2}|[〇零一二][〇零一二三四五六七八九]{3})年"
_WITHIN_YEAR = r"(?:\d{1,2}月(?:份|底|末)?|[上下]半年|第?[一二三四1-4]季度|年?底|年?末|年内)"
_BEFORE = r"(?:之前|以前|前)(?!后)"
# Named so each part of the grammar can be tested by name.
DEADLINE_PATTERNS = {
    "preposition": re.compile(rf"(?:到|至|于|截至|截止到|截止)\s*(?P<date>{_YEAR}{_WITHIN_YEAR}?(?:{_BEFORE})?)"),
    "limit word": re.compile(rf"(?<![比较])(?P<date>{_YEAR}(?:{_WITHIN_YEAR}(?:{_BEFORE})?|{_BEFORE}))"),
    "recurring": re.compile(rf"(?P<date>每(?:年|半年|季度|月)(?:\d{{1,2}}月)?(?:底|末)(?:{_BEFORE})?)"),
    "plan period": re.compile(r"(?<![比较“\"「])(?<![比较][“\"「])[“\"「]?(?P<date>十[一二三四五六七八九]五)[”\"」]?"
                              r"(?P<span>(?:规划)?(?:期间|时期|末期|末))"),
}
# An ongoing duty, written as printed where the text gives no date: 长期坚持, or 持续 with its verb.
ONGOING = re.compile(r"长期坚持|常态化(?:推进|开展)|持续(?:推进|开展|推广|加强|实施|优化)")
_AT_LEAST = ("以上", "不低于", "不少于", "达到", "提高到", "提高至", "提升到", "提升至")
_MORE = ("超过", "超", "高于")
_CHANGE = ("提高", "提升", "下降", "降低", "减少", "增长", "增加")  # by so much, not to so much
_AT_MOST = ("以内", "以下", "不超过", "不高于", "下降至", "下降到", "降至", "降低到", "降低至", "控制在")


def deadlines(text: str) -> str:
    """The deadlines the text states, in reading order, joined by 、; else an ongoing phrase; else ""."""
    copy = matching_copy(text)  # Simplified, half-width, as long as `text`: spans carry over
    found: list[tuple[int, int]] = []
    for pattern in DEADLINE_PATTERNS.values():
        for match in pattern.finditer(copy):
            start, end = match.span()
            if not any(start < other_end and other_start < end for other_start, other_end, _ in found):
                found.append((start, end, _printed(text, match)))
    dates = [date for _, _, date in sorted(found)]
    if not dates and (ongoing := ONGOING.search(copy)):
        dates = [text[ongoing.start():ongoing.end()]]
    return "、".join(dict.fromkeys(dates))


def _printed(text: str, match: re.Match[str]) -> str:
    """The date as printed, from the year on; a plan period in quotes whatever quotes the text had."""
    if "span" in match.re.groupindex:
        return f"“{text[match.start('date'):match.end('date')]}”{text[match.start('span'):match.end('span')]}"
    return text[match.start("date"):match.end("date")]


def task_targets(targets: tuple[Target, ...], task: str) -> tuple[Target, ...]:
    """The clause's targets whose sentence lies in the task's text."""
    inside = compact(task)
    return tuple(target for target in targets if compact(target.text)[:20] in inside)


def target_text(target: Target) -> str:
    """「2025年 城市污泥无害化处置率 ≥95%」: year, indicator, the comparison the sentence makes, value and unit."""
    comparison = _comparison(target)
    indicator = target.indicator
    if comparison and indicator.endswith(_MORE + _AT_LEAST + _CHANGE):  # 「占比超」80% → 占比 >80%
        indicator = next(indicator[:-len(word)] for word in _MORE + _AT_LEAST + _CHANGE if indicator.endswith(word))
    return f"{target.year}年 {indicator} {comparison}{target.value}{target.unit}"


def _comparison(target: Target) -> str:
    """≥ ≤ > 约, or the verb of a change (提高4个百分点), from the words either side of the value."""
    sentence = compact(target.text)
    at = sentence.find(f"{target.value}{target.unit}")
    if at < 0:
        return ""
    before, after = sentence[max(0, at - 6):at], sentence[at + len(target.value) + len(target.unit):][:3]
    bound = "≤" if after.startswith(("以内", "以下")) else "≥" if after.startswith("以上") else ""
    if change := next((verb for verb in _CHANGE if before.endswith(verb)), ""):
        return change + bound
    if bound:
        return bound
    if before.endswith(_AT_MOST):
        return "≤"
    if before.endswith(_AT_LEAST):
        return "≥"
    if before.endswith(_MORE):
        return ">"
    return "约" if after.startswith("左右") else ""
