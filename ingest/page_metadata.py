"""Metadata that web pages and their captures print around a document, read into `SourceText.metadata`.

Government sites print a metadata table or list above the article (索引号 / 发文机关 / 文号 / 成文日期 /
发布日期 / 标题 / 主题分类); capture tools write their own header (「**发布日期**: 2025-10-31」,
「- **文件编号**：无」, 「01. [发文字号] 京教勤〔2024〕13号」). `read_pairs` finds the known keys of one line,
however they are set (「文　　号：」, 「[ 索引号 ]」, several pairs on one line, pairs glued together); `PAGE_KEYS`
maps each key to a metadata name, or to None for keys that are known (so the line is recognised as
metadata) but carry nothing we keep. Values filled in for form's sake (「无」, 「----」, 「2021-2023年期间」
as a date) are dropped: a value must look like what its key names.

Which organisation a capture tool calls 「发布机构」 is the site that published the page, not the issuer
(上海市科学技术委员会 reposting a 市政府办公厅 notice), so it is kept as `publisher`, never as `issuer`.
"""

from __future__ import annotations

import re
from typing import Iterable, Sequence

from . import tables
from .records import SourceTable

# Printed key (spaces removed) -> metadata name, or None: a key we recognise but do not keep.
PAGE_KEYS: dict[str, str | None] = {
    "标题": "title", "名称": "title", "文件名称": "title", "文件标题": "title", "文章标题": "title",
    "文号": "doc_number", "发文字号": "doc_number", "发文文号": "doc_number", "文件编号": "doc_number",
    "文件字号": "doc_number",
    "发文机关": "issuer", "发布机关": "issuer", "发文机构": "issuer", "发文单位": "issuer", "制发机关": "issuer",
    "成文日期": "date", "印发日期": "date", "发文日期": "date",
    "发布日期": "published", "发布时间": "published", "公开日期": "published", "生成日期": "published",
    "实施日期": "effective", "施行日期": "effective",
    "发布机构": "publisher", "信息来源": "publisher", "来源": "publisher", "所属机构": "publisher",
    "原文链接": "url", "来源URL": "url", "检索时间": "retrieved", "抓取时间": "retrieved",
    "索引号": "index_number", "主题分类": "category", "分类": "category",
    "有效性": "validity", "文件状态": "validity",
    "联合发文单位": None, "废止日期": None, "失效日期": None, "统一编号": None, "体裁分类": None,
    "组配分类": None, "主题词": None, "关键字": None, "关键词": None, "检索关键词": None, "文档类型": None,
    "文件类型": None, "文件来源": None, "公开方式": None, "公开范围": None, "录入": None, "浏览次数": None,
    "访问量": None, "点击数": None,
}
_PLACEHOLDERS = {"", "无", "暂无", "空", "-", "/", "——", "—", "null", "none", "n/a"}
_KEY = "|".join(r"\s*".join(map(re.escape, key)) for key in sorted(PAGE_KEYS, key=len, reverse=True))
# A key, bracketed or not, then a colon (or, for a bracketed key, nothing): 「文 号：」 「[ 索引号 ]」 「【发布日期】」
_PAIR_KEY = re.compile(rf"[\[【〔]\s*(?P<bracketed>{_KEY})\s*[\]】〕]\s*[:：]?|(?P<plain>{_KEY})\s*[:：]")
_ITEM_NUMBER = re.compile(r"^\s*(\d{1,2}[.、．]\s*)?")
_DATE = re.compile(r"(\d{4})\s*[-年/.]\s*(\d{1,2})\s*[-月/.]\s*(\d{1,2})\s*日?")
_DOC_NUMBER = re.compile(r"\S{1,20}?\s*[〔\[【(（［]\s*\d{4}\s*[〕\]】)）］]\s*第?\s*\d{1,5}\s*号")
_URL = re.compile(r"^(https?://\S+)")
_TITLE_CHARACTERS = re.compile(r"[\u4e00-\u9fff]")
# Lines above the body that only label the metadata or the body, or that a capture tool wrote about itself
_LABEL_LINES = re.compile(r"^(基本信息|文件信息|信息索引|政策全文|正文|全文|文档\s*[:：].*\.md)$")
HEAD_ZONE_CHARS = 150  # metadata lines are read above the first paragraph this long, or the first heading
_BODY_HEADING = re.compile(r"^(第[一二三四五六七八九十百零〇]+[编章节条]|[一二三四五六七八九十]+、|[（(][一二三四五六七八九十]+[）)])")
_MAX_LINE_CHARS = 400  # a metadata line is short: several pairs at most


def iso_date(text: str) -> str:
    """「2021年04月16日」, 「2023-11-07 15:02」 -> 「2021-04-16」, 「2023-11-07」; "" when not a full date."""
    match = _DATE.search(text)
    if not match:
        return ""
    year, month, day = (int(part) for part in match.groups())
    return f"{year:04d}-{month:02d}-{day:02d}" if 1 <= month <= 12 and 1 <= day <= 31 else ""


def read_pairs(line: str) -> list[tuple[str, str]] | None:
    """The (printed key, value) pairs of a metadata line, or None when the line is not one: it must
    start with a known key and consist of nothing else. A key alone (its value on the next line) gives
    one pair with an empty value."""
    text = _ITEM_NUMBER.sub("", line, count=1).strip()
    if len(text) > _MAX_LINE_CHARS or not _PAIR_KEY.match(text):
        return None
    matches = list(_PAIR_KEY.finditer(text))
    pairs = []
    for match, following in zip(matches, [*matches[1:], None]):
        key = re.sub(r"\s+", "", match["bracketed"] or match["plain"])
        pairs.append((key, text[match.end():following.start() if following else len(text)].strip()))
    return pairs


def metadata_value(name: str, value: str) -> str:
    """`value` cleaned for metadata `name`, or "" when it is a placeholder or does not fit the name."""
    value = value.strip(" -—–\t\u3000").strip()
    if value.lower() in _PLACEHOLDERS:
        return ""
    if name in ("date", "published", "effective", "retrieved"):
        return iso_date(value)
    if name == "doc_number":
        match = _DOC_NUMBER.search(value)
        return match.group(0).strip() if match else ""
    if name == "url":
        match = _URL.match(value)
        return match.group(1) if match else ""
    if name == "title":
        return value if 4 <= len(value) <= 200 and _TITLE_CHARACTERS.search(value) else ""
    return value if len(value) <= 200 else ""


def collect_metadata(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Metadata from (printed key, value) pairs; the first usable value of each name wins. A 「来源」
    that is an address is the page's url."""
    metadata: dict[str, str] = {}
    for key, value in pairs:
        name = PAGE_KEYS.get(key)
        if name == "publisher" and _URL.match(value.strip()):
            name = "url"
        if name and name not in metadata and (cleaned := metadata_value(name, value)):
            metadata[name] = cleaned
    return metadata


def clean_page_title(title: str, site_names: Iterable[str] = ()) -> str:
    """A `<title>` without its site part: 「通知_政府信息公开专栏」 / 「通知 - 广州市人民政府门户网站」 -> 「通知」."""
    parts = [part.strip() for part in re.split(r"\s+[-|－—–]+\s+|_|\s*\|\s*", title) if part.strip()]
    parts = [part for part in parts if part not in set(site_names)] or parts
    return max(parts, key=len) if parts else ""


def take_metadata(blocks: Sequence[str], found: Sequence[SourceTable]
                  ) -> tuple[tuple[str, ...], tuple[SourceTable, ...], dict[str, str]]:
    """Read the metadata lines above the body (before the first paragraph of `HEAD_ZONE_CHARS` or the
    first numbered heading) and take them, with the labels around them, out of the blocks. A bracketed
    key alone on its line (「[ 索引号 ]」) has its value on the next line."""
    pairs: list[tuple[str, str]] = []
    dropped: set[int] = set()
    for index, block in enumerate(blocks):
        if index in dropped:
            continue
        if (line_pairs := read_pairs(block)) is not None:
            dropped.add(index)
            if _value_on_next_line(block, line_pairs) and index + 1 < len(blocks) \
                    and read_pairs(blocks[index + 1]) is None:
                line_pairs = [(line_pairs[0][0], blocks[index + 1])]
                dropped.add(index + 1)
            pairs += line_pairs
        elif _LABEL_LINES.match(block.strip()):
            dropped.add(index)
        elif len(block) >= HEAD_ZONE_CHARS or _BODY_HEADING.match(block):
            break
    kept_blocks, kept_tables = tables.drop_blocks(blocks, found, dropped)
    return kept_blocks, kept_tables, collect_metadata(pairs)


def _value_on_next_line(block: str, pairs: list[tuple[str, str]]) -> bool:
    return len(pairs) == 1 and not pairs[0][1] and block.lstrip().startswith(("[", "【"))
