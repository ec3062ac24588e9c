"""The parts of a document around its measures: page noise, title, 文号, addressees, signature.

Front matter is everything before the first heading. Lines that match the noise table are removed
from the whole document first (`is_noise`); here the lines before the first title-like line are
dropped too, as web-page noise (the seed's news lead), and the rest are classified one by one. A signature block (issuers, then a date, then an
optional 「（此件公开发布）」) is taken from the end of the front matter or of the whole text.

A 公文's page furniture (`data/gongwen.tsv`: the red masthead 「××市人民政府文件」, 份号, 密级 and
紧急程度, 签发人, and the closing 「抄送：」 and 「…印发」 lines) is removed with the noise, so it is
never a title or a measure; the 文号 line above the title is read even when 签发人 shares it.
"""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from .normalize import chinese_number, compact

logger = logging.getLogger(__name__)
_DATA = Path(__file__).parent / "data"
DOC_NUMBER = re.compile(r"[\u4e00-\u9fa5]{1,10}[〔\[［(（【]\d{4}[〕\]］)）】]\d+号|国令第\d+号")
_DATE = re.compile(r"^(?P<y>\d{4}|[〇零一二三四五六七八九]{4})年(?P<m>\d{1,2}|[一二三四五六七八九十]{1,3})月"
                   r"(?P<d>\d{1,2}|[一二三四五六七八九十]{1,3})日$")
# A date inside a sentence or a law's header: 「2020年5月28日」, 「二〇二二年六月十三日」 (digits or Chinese numerals).
_DATE_IN_TEXT = re.compile(r"(?P<y>\d{4}|[〇零一二三四五六七八九]{4})年(?P<m>\d{1,2}|[一二三四五六七八九十]{1,3})月"
                           r"(?P<d>\d{1,2}|[一二三四五六七八九十]{1,3})日")
# A law's or regulation's header line, the date first and what happened on it last:
# 「（2020年5月28日第十三届全国人民代表大会第三次会议通过）」, 「2018年11月6日中华人民共和国国务院令第706号公布」.
_ENACTMENT = re.compile(r"^[(（]?" + _DATE_IN_TEXT.pattern + r"[^()（）。]{0,80}?(通过|公布|发布|批准)"
                        r"([^()（）。]{0,200})?[)）]?$")
_PUBLICATION_NOTE = re.compile(r"^\((此件|本件|本文)[^)]*\)$")
# What a title line never starts with (a sentence of the notice) or ends with (a masthead: 「××市人民政府文件」).
_NOT_TITLE = re.compile(r"^(为|按照|根据|经|现将|近日|近期|依据|在|从|自|截至)|文件$")
# A title wrapped over lines: the next line continues it when it opens with these, or the line ends so.
_CONTINUES = re.compile(r"^[(（《〈“的》〉]")
_OPEN_END = re.compile(r"(关于|印发|转发|的|《|〈|“|和|及|与)$")
# Chrome glued to a title line by a conversion: 「…的通知来源：国土空间生态修复处时间：…」
_GLUED_CHROME = re.compile(r"(来源|发布时间|发布日期|时间|浏览次数)[:：].*$")
_SPACED = re.compile(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])")
_TITLE_END = re.compile(r"(通知|意见|决定|方案|办法|规定|条例|规划|纲要|细则|计划|报告|批复|复函|函|通报|答复|"
                        r"规则|措施|公告|指引|指南|法|解释)(\([^)]*\))?$")
_ORG_LINE = re.compile(r"^([\u4e00-\u9fa5()]{2,30}(政府|国务院|办公厅|办公室|委员会|局|委|部|厅|院|署|会|中心|行|社)\s*)+$")


@dataclass(frozen=True)
class FrontMatter:
    title: str  # as printed; the plan's own title when a notice carries the plan
    notice_title: str  # the covering notice's title, when there is one
    doc_number: str
    addressees: str
    issuers: tuple[str, ...]  # names as printed in the signature block
    issuer_short_names: tuple[str, ...]  # names listed before 关于 in the notice title
    date: str  # ISO
    notice: tuple[str, ...]  # paragraphs of the covering notice
    preamble: tuple[str, ...]  # paragraphs before the first heading that are neither
    signature: tuple[str, ...]  # the signature block lines


@functools.cache
def noise_patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    rows = (line.split("\t", 1) for line in (_DATA / "noise.tsv").read_text(encoding="utf-8").splitlines()
            if line and not line.startswith("#"))
    return tuple((name, re.compile(pattern, re.IGNORECASE)) for name, pattern in rows)


@functools.cache
def furniture_patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    rows = (line.split("\t", 1) for line in (_DATA / "gongwen.tsv").read_text(encoding="utf-8").splitlines()
            if line and not line.startswith("#"))
    return tuple((name, re.compile(pattern)) for name, pattern in rows)


def is_noise(line: str) -> bool:
    copy = compact(line) if len(line) < 200 else ""
    return bool(copy) and any(pattern.search(copy) for _, pattern in (*noise_patterns(), *furniture_patterns()))


def doc_number_line(line: str) -> str:
    """The 文号 when the line is one, also as 「武政〔2022〕11号　签发人：张三」; else ""."""
    printed = re.split(r"\s*签发人\s*[:：]", line.strip(), maxsplit=1)[0].strip()
    return printed if DOC_NUMBER.fullmatch(compact(printed)) else ""


def parse_date(line: str) -> str:
    """The ISO date of a line that is only a date (a signature's 「2022年6月13日」, 「二〇二二年六月十三日」)."""
    match = _DATE.match(compact(line))
    return _iso(match) if match else ""


def enactment_date(line: str) -> str:
    """The date a law's header line gives for its adoption or promulgation (the first date of the line:
    later ones are amendments), or "" when the line is not such a header."""
    match = _ENACTMENT.match(compact(line))
    return _iso(match) if match else ""


def signature_date(blocks: list[str]) -> str:
    """The date of the first signature block anywhere in `blocks`: an issuer line directly followed by
    a date line. A 国函 or 国办发 prints its signature before its annexes (「附件：…」 / 国务院 /
    二〇〇六年十二月三十日 / 附件1. …), where neither the front matter nor the closing lines have it."""
    for index in range(1, len(blocks)):
        if (date := parse_date(blocks[index])) and _is_issuer_line(blocks[index - 1]):
            return date
    return ""


def _is_issuer_line(line: str) -> bool:
    copy = compact(line)
    return len(copy) <= 60 and bool(_ORG_LINE.match(copy))


def _iso(match: re.Match[str]) -> str:
    year = match.group("y")
    year = year if year.isdigit() else "".join(str(chinese_number(char)) for char in year)
    month, day = (chinese_number(match.group(key)) for key in ("m", "d"))
    return f"{int(year):04d}-{month:02d}-{day:02d}" if 1 <= month <= 12 and 1 <= day <= 31 else ""


def is_title_line(line: str) -> bool:
    copy = compact(_title_text(line)).strip("《》")
    return (4 <= len(copy) <= 80 and not re.search(r"[。,;:!?]", copy) and not DOC_NUMBER.fullmatch(copy)
            and not parse_date(line) and not _ORG_LINE.match(copy) and not _NOT_TITLE.search(copy)
            and len(re.findall(r"[\u4e00-\u9fff]", copy)) >= 4 and not re.search(r"\d{4}年\d{1,2}月\d{1,2}日", copy))


def _title_text(line: str) -> str:
    """A line as a title: chrome glued to its end cut off, spaces between characters 「广 州 市」 removed,
    a trailing 「（国发〔2021〕33号）」 left to the 文号."""
    line = re.sub(r"^(无障碍浏览|长者模式|关怀版|無障礙瀏覽|長者模式)+", "", _GLUED_CHROME.sub("", line.strip()))
    if len(_SPACED.findall(line)) * 3 >= len(re.findall(r"[\u4e00-\u9fff]", line)):  # letter-spaced, not a list
        line = _SPACED.sub("", line)
    return re.sub(r"[(（]\s*" + DOC_NUMBER.pattern.replace("|国令第\\d+号", "") + r"\s*[)）]$", "", line).strip()


def split_signature(blocks: list[str]) -> tuple[list[str], list[str], str]:
    """(blocks before the signature, signature lines, ISO date) from the end of `blocks`."""
    end = len(blocks)
    while end and _PUBLICATION_NOTE.match(compact(blocks[end - 1])):
        end -= 1
    if not end or not (date := parse_date(blocks[end - 1])):
        return blocks, [], ""
    start = end - 1
    while start and end - start <= 4 and _ORG_LINE.match(compact(blocks[start - 1]).replace(" ", "")) \
            and len(compact(blocks[start - 1])) <= 60:
        start -= 1
    return blocks[:start], blocks[start:len(blocks)], date


def parse_front_matter(blocks: list[str]) -> FrontMatter:
    """Classify the lines before the first heading; `blocks` have had noise-table lines removed."""
    first_title = next((index for index, block in enumerate(blocks) if is_title_line(block)), None)
    if first_title:
        logger.debug("dropped %d lines before the title as page noise: %s", first_title, blocks[:first_title])
    kept = blocks[first_title or 0:]
    titles: list[tuple[str, str]] = []
    doc_number, addressees, notice, preamble = "", "", [], []
    for line in blocks:  # a 文号 above the title (the dropped lines; 签发人 may share its line) or at a title's end
        if found := DOC_NUMBER.search(compact(line)):
            if doc_number_line(line) or compact(line).endswith((found.group(0) + ")", found.group(0) + "）")):
                doc_number = found.group(0)
                break
    before, signature, date = _signature_inside(kept)
    after_signature = kept[len(before) + len(signature):]
    for part, lines in (("notice", before), ("preamble", after_signature)):
        for line in lines:
            copy = compact(line)
            if number := doc_number_line(line):
                doc_number = doc_number or compact(number)
            elif _PUBLICATION_NOTE.match(copy):
                continue
            elif is_title_line(line) and not (notice if part == "notice" else preamble):
                text = _title_text(line)
                if titles and titles[-1][0] == part and (_wrapped(titles[-1][1]) or _CONTINUES.match(compact(text))
                                                         or _OPEN_END.search(compact(titles[-1][1]))):
                    titles[-1] = (part, titles[-1][1] + text)
                else:
                    titles.append((part, text))
            elif copy.endswith(":") and len(copy) <= 120 and not addressees and part == "notice":
                addressees = line.strip().rstrip(":：")
            else:
                (notice if part == "notice" and signature else preamble).append(line)
    title_groups = [text.strip("《》") for _, text in titles]
    notice_title = title_groups[0] if len(title_groups) > 1 else ""
    title = title_groups[-1] if title_groups else ""
    return FrontMatter(title, notice_title, doc_number, addressees, _signature_names(signature),
                       _issuer_short_names(notice_title or title), date, tuple(notice), tuple(preamble),
                       tuple(signature))


def _wrapped(previous_title: str) -> bool:
    """A title line continues on the next line unless it already ends like a title."""
    return not _TITLE_END.search(compact(previous_title).strip("《》"))


def _signature_inside(kept: list[str]) -> tuple[list[str], list[str], str]:
    """Split front matter at a signature block that closes a covering notice, if there is one."""
    for index in range(len(kept)):
        if parse_date(kept[index]):
            end = index + 1
            while end < len(kept) and _PUBLICATION_NOTE.match(compact(kept[end])):
                end += 1
            before, signature, date = split_signature(kept[:end])
            if signature:
                return before, signature, date
    return kept, [], ""


def _signature_names(signature: list[str]) -> tuple[str, ...]:
    names = []
    for line in signature:
        if parse_date(line) or _PUBLICATION_NOTE.match(compact(line)):
            continue
        names += [name for name in re.split(r"[\s\u3000]+", line.strip()) if name]
    return tuple(names)


def _issuer_short_names(title: str) -> tuple[str, ...]:
    """「市生态环境局 市发改委 …关于印发…的通知」 → the listed issuers."""
    printed = title.strip("《》")
    head = re.split(r"關于|关于|關於|关於", printed, maxsplit=1)[0]
    if head == printed:
        return ()
    return tuple(name for name in re.split(r"[\s\u3000、，,]+", head) if name)
