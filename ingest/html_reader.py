"""HTML (gov.cn-style pages) to paragraphs: keep the article text, drop navigation and page chrome.

Uses the standard library's HTMLParser: it never fetches anything and expands no external entities.
Chrome lines such as 「下载 打印 全屏」 are removed later by the structure step's noise table, so
that the same rules apply to text files saved from web pages.

Work is linear in the page: the open elements are a stack plus a count per tag name, so an end tag
that closes nothing (`</i>` ×20,000 after `<b>` ×20,000) is dismissed without searching the stack.

Tables (`<table>`, rowspan and colspan expanded) are returned beside the blocks their rows occupy, which
are the blocks the page gave before; a layout table (one cell, one row or one column, or a cell holding
a whole article) is not reported, its text stays in the blocks and the tables inside it are tables. A
data table inside a data table is flattened into its cell, one line per row.

Metadata comes from the document, never from the `<title>` chrome: `<meta name="ArticleTitle">`,
the gov metadata table above the article (索引号 / 发文机关 / 文号 / 成文日期 / 发布日期 / 标题; its lines
are taken out of the blocks), else the article's `<h1>`. The `<title>` without its site name is kept
as `page_title`, the last resort parse.py uses.
"""

from __future__ import annotations

import collections
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from . import page_metadata, tables
from .records import SourceTable

_SKIP_TAGS = {"script", "style", "noscript", "nav", "header", "footer", "aside", "form", "button",
              "select", "iframe", "svg", "template", "head"}
_VOID_TAGS = {"br", "hr", "img", "input", "meta", "link", "area", "base", "col", "embed", "source",
              "track", "wbr"}
_BLOCK_TAGS = {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "section",
               "article", "table", "ul", "ol", "blockquote", "pre", "dd", "dt", "center"}
_CELL_TAGS = {"td", "th"}
_STRUCTURE_TAGS = _BLOCK_TAGS | _CELL_TAGS | {"table", "h1"}  # the tags tables and headings are built from
_CHROME_ATTRIBUTE = re.compile(r"nav|menu|breadcrumb|footer|header|share|toolbar|sidebar|related|crumb|"
                               r"pagination|print|search", re.IGNORECASE)
_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([A-Za-z0-9_-]+)", re.IGNORECASE)
_ENCODING_NAMES = {"gb2312": "gb18030", "gbk": "gb18030", "gb18030": "gb18030", "big5": "big5",
                   "utf-8": "utf-8", "utf8": "utf-8"}
_SPACES = re.compile(r"[ \t\r\n\u3000\xa0]+")
# <meta name=…> of gov sites (the 政府网站 standard's column and article fields) -> metadata name
_META_NAMES = {"articletitle": "title", "pubdate": "published", "sitename": "site"}


def declared_charset(data: bytes) -> str | None:
    """The charset a <meta> tag declares in the first 4 KB, mapped to a strict codec, if any."""
    match = _CHARSET.search(data[:4096])
    return _ENCODING_NAMES.get(match.group(1).decode("ascii").lower()) if match else None


def _is_chrome(attrs: list[tuple[str, str | None]]) -> bool:
    marks = " ".join(value or "" for key, value in attrs if key in ("class", "id", "role"))
    return bool(marks and _CHROME_ATTRIBUTE.search(marks))


def _span(value: str | None) -> int:
    return int(value) if value and value.strip().isdigit() else 1


@dataclass
class _TableDraft:
    start: int
    rows: list[list[tables.Cell]] = field(default_factory=list)
    cell: list[str] | None = None  # the open cell's lines
    spans: tuple[int, int] = (1, 1)

    def open_cell(self, rowspan: int, colspan: int) -> None:
        self.close_cell()
        if not self.rows:
            self.rows.append([])
        self.cell, self.spans = [""], (rowspan, colspan)

    def close_cell(self) -> None:
        if self.cell is not None:
            text = "\n".join(line for raw in self.cell if (line := _SPACES.sub(" ", raw).strip()))
            self.rows[-1].append(tables.Cell(text, *self.spans))
            self.cell = None

    def close_row(self) -> None:
        self.close_cell()
        self.rows.append([])

    def add(self, text: str, line_break: bool = False) -> None:
        if self.cell is not None:
            self.cell[-1] += text
            if line_break:
                self.cell.append("")


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []
        self.tables: list[SourceTable] = []
        self.title = ""
        self.meta: dict[str, str] = {}
        self.headings: list[str] = []
        self._stack: list[tuple[str, bool]] = []  # open elements: (tag, inside chrome)
        self._open: collections.Counter[str] = collections.Counter()  # open elements per tag
        self._buffer: list[str] = []
        self._drafts: list[_TableDraft] = []  # open tables, innermost last
        self._in_title = False
        self._heading: list[str] | None = None

    @property
    def _skipping(self) -> bool:
        return bool(self._stack) and self._stack[-1][1]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS:
            self._flush()
        elif tag in _CELL_TAGS:
            self._buffer.append(" ")
        if tag == "title":
            self._in_title = True
        if tag == "meta":
            self._read_meta(dict(attrs))
        skipping = self._skipping or tag in _SKIP_TAGS or bool(attrs and _is_chrome(attrs))
        if not skipping and tag in _STRUCTURE_TAGS:
            self._start_structure(tag, dict(attrs))
        if tag not in _VOID_TAGS:
            self._stack.append((tag, skipping))
            self._open[tag] += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if tag in _BLOCK_TAGS:
            self._flush()
        if not self._open[tag]:  # closes nothing that is open: nothing to search for
            return
        while self._stack:
            name, skipping = self._stack.pop()
            self._open[name] -= 1
            if not skipping and name in _STRUCTURE_TAGS:
                self._end_structure(name)
            if name == tag:
                break

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data.strip()
        elif not self._skipping:
            self._buffer.append(data)
            if self._drafts:
                self._drafts[-1].add(data)
            if self._heading is not None:
                self._heading.append(data)

    def _read_meta(self, attrs: dict[str, str | None]) -> None:
        name = _META_NAMES.get((attrs.get("name") or "").lower())
        if name and (content := (attrs.get("content") or "").strip()):
            self.meta.setdefault(name, content)

    def _start_structure(self, tag: str, attrs: dict[str, str | None]) -> None:
        draft = self._drafts[-1] if self._drafts else None
        if tag == "h1" and self._heading is None:
            self._heading = []
        if tag == "table":
            self._drafts.append(_TableDraft(len(self.blocks)))
        elif draft and tag == "tr":
            draft.close_row()
        elif draft and tag in _CELL_TAGS:
            draft.open_cell(_span(attrs.get("rowspan")), _span(attrs.get("colspan")))
        elif draft and tag in _BLOCK_TAGS:
            draft.add("", line_break=True)

    def _end_structure(self, tag: str) -> None:
        draft = self._drafts[-1] if self._drafts else None
        if tag == "h1" and self._heading is not None:
            self.headings.append(_SPACES.sub(" ", "".join(self._heading)).strip())
            self._heading = None
        if tag == "table" and draft:
            self._drafts.pop()
            self._flush()
            self._finish_table(draft)
        elif draft and tag in _CELL_TAGS:
            draft.close_cell()
        elif draft and tag in _BLOCK_TAGS:
            draft.add("", line_break=True)

    def _finish_table(self, draft: _TableDraft) -> None:
        draft.close_cell()
        grid = tables.expand([row for row in draft.rows if row])
        if self._drafts and grid:  # a table in a cell: its rows are lines of that cell
            self._drafts[-1].add("\n".join(tables.row_text(row) for row in grid), line_break=True)
        if grid is None or tables.is_layout(grid):
            return
        self.tables = [table for table in self.tables if table.start < draft.start]  # nested ones: flattened
        self.tables.append(SourceTable(grid, draft.start, len(self.blocks)))

    def _flush(self) -> None:
        text = _SPACES.sub(" ", "".join(self._buffer)).strip()
        self._buffer.clear()
        if text:
            self.blocks.append(text)

    def close(self) -> None:
        super().close()
        while self._stack:
            name, skipping = self._stack.pop()
            if not skipping:
                self._end_structure(name)
        self._flush()


def html_blocks(text: str) -> tuple[tuple[str, ...], tuple[SourceTable, ...], dict[str, str]]:
    """The page's paragraphs, its data tables, and the metadata the document carries."""
    collector = _TextCollector()
    collector.feed(text)
    collector.close()
    blocks, found_tables, metadata = page_metadata.take_metadata(collector.blocks, collector.tables)
    for name, value in collector.meta.items():  # <meta name="ArticleTitle"> before the metadata table
        if name != "site" and (cleaned := page_metadata.metadata_value(name, value)):
            metadata[name] = cleaned
    if "title" not in metadata:
        metadata |= next(({"title": text} for text in collector.headings
                          if page_metadata.metadata_value("title", text)), {})
    if collector.title:
        metadata["page_title"] = page_metadata.clean_page_title(collector.title, [collector.meta.get("site", "")])
    return blocks, found_tables, metadata
