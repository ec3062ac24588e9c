"""HTML (gov.cn-style pages) to paragraphs: keep the article text, drop navigation and page chrome.

Uses the standard library's HTMLParser: it never fetches anything and expands no external entities.
Chrome lines such as 「下载 打印 全屏」 are removed later by the structure step's noise table, so
that the same rules apply to text files saved from web pages.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_SKIP_TAGS = {"script", "style", "noscript", "nav", "header", "footer", "aside", "form", "button",
              "select", "iframe", "svg", "template", "head"}
_VOID_TAGS = {"br", "hr", "img", "input", "meta", "link", "area", "base", "col", "embed", "source",
              "track", "wbr"}
_BLOCK_TAGS = {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "section",
               "article", "table", "ul", "ol", "blockquote", "pre", "dd", "dt", "center"}
_CHROME_ATTRIBUTE = re.compile(r"nav|menu|breadcrumb|footer|header|share|toolbar|sidebar|related|crumb|"
                               r"pagination|print|search", re.IGNORECASE)
_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([A-Za-z0-9_-]+)", re.IGNORECASE)
_ENCODING_NAMES = {"gb2312": "gb18030", "gbk": "gb18030", "gb18030": "gb18030", "big5": "big5",
                   "utf-8": "utf-8", "utf8": "utf-8"}


def declared_charset(data: bytes) -> str | None:
    """The charset a <meta> tag declares in the first 4 KB, mapped to a strict codec, if any."""
    match = _CHARSET.search(data[:4096])
    return _ENCODING_NAMES.get(match.group(1).decode("ascii").lower()) if match else None


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []
        self.title = ""
        self._stack: list[tuple[str, bool]] = []
        self._buffer: list[str] = []
        self._in_title = False

    @property
    def _skipping(self) -> bool:
        return bool(self._stack) and self._stack[-1][1]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS:
            self._flush()
        if tag == "title":
            self._in_title = True
        if tag in _VOID_TAGS:
            return
        marks = " ".join(value or "" for key, value in attrs if key in ("class", "id", "role"))
        chrome = tag in _SKIP_TAGS or bool(marks and _CHROME_ATTRIBUTE.search(marks))
        self._stack.append((tag, self._skipping or chrome))

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if tag in _BLOCK_TAGS:
            self._flush()
        for position in range(len(self._stack) - 1, -1, -1):
            if self._stack[position][0] == tag:
                del self._stack[position:]
                break

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data.strip()
        elif not self._skipping:
            self._buffer.append(data)

    def _flush(self) -> None:
        text = re.sub(r"[ \t\r\n\u3000\xa0]+", " ", "".join(self._buffer)).strip()
        self._buffer.clear()
        if text:
            self.blocks.append(text)

    def close(self) -> None:
        super().close()
        self._flush()


def html_blocks(text: str) -> tuple[tuple[str, ...], dict[str, str]]:
    collector = _TextCollector()
    collector.feed(text)
    collector.close()
    metadata = {"page_title": collector.title} if collector.title else {}
    return tuple(collector.blocks), metadata
