"""Bounds on the work one PDF page may cause, checked before pdfminer and pdfplumber build anything.

pdfplumber turns every glyph, path and image of a page into Python objects (kilobytes each), so a
1 KB file whose one text-show holds 400,000 glyphs costs a gigabyte. Each page is checked first:

1. Its content (the page's streams, plus each form XObject as many times as the page draws it) must
   inflate to at most `pdf_page_content_bytes`, counted a megabyte at a time without keeping the
   output; a document's pages together to at most `pdf_content_bytes` (pages may share one
   stream, so the file's size says nothing); a document's pages draw at most `pdf_glyphs`
   glyphs in all, counted as each page is read.
2. Content of at most `pdf_page_glyphs` bytes cannot draw more glyphs or objects than that (every
   glyph and every painted path takes at least a byte): the page is read at once, as nearly all are.
3. Larger content is interpreted by pdfminer with a device that only counts, building nothing, and
   stops at `pdf_page_glyphs` glyphs or `pdf_page_objects` paths and images.

A page over a bound is refused with its number; nothing of it has been built. The bounds are
`ingest.options.WorkBounds` (settings of the service, defaults there).
"""

from __future__ import annotations

import io
import re
import zlib
from dataclasses import dataclass, field
from typing import Iterator

from pdfminer.pdfdevice import PDFDevice
from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
from pdfminer.pdfpage import PDFPage
from pdfminer.ascii85 import ascii85decode, asciihexdecode
from pdfminer.lzw import LZWDecoder
from pdfminer.pdftypes import (LITERALS_ASCII85_DECODE, LITERALS_ASCIIHEX_DECODE, LITERALS_FLATE_DECODE,
                               LITERALS_LZW_DECODE, LITERALS_RUNLENGTH_DECODE, PDFStream, resolve1)
from pdfminer.runlength import rldecode

from .errors import UnsafeArchive
from .options import WorkBounds

_MAX_FORM_DEPTH = 12
_DO = re.compile(rb"/([^\s/\[\]()<>{}%]+)\s*Do(?![^\s/\[\]()<>{}%])")
_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
# Filters whose output is at most this many times their input, and their decoders
_SMALL_EXPANSION = {**{name: 1 for name in LITERALS_ASCII85_DECODE + LITERALS_ASCIIHEX_DECODE},
                    **{name: 64 for name in LITERALS_RUNLENGTH_DECODE}}
_SMALL_DECODERS = {**{name: ascii85decode for name in LITERALS_ASCII85_DECODE},
                   **{name: asciihexdecode for name in LITERALS_ASCIIHEX_DECODE},
                   **{name: rldecode for name in LITERALS_RUNLENGTH_DECODE}}


class _Exceeded(Exception):
    """A bound was passed; the message says which."""


@dataclass
class ContentBudget:
    """What the pages of one document have used so far, and the bounds they are held to."""

    bounds: WorkBounds = field(default_factory=WorkBounds)
    content_bytes: int = 0
    glyphs: int = 0


def check_page(page: PDFPage, number: int, resources: PDFResourceManager, budget: ContentBudget,
               name: str) -> None:
    """Raise UnsafeArchive when page `number` (0-based) of file `name` would cost more than the bounds."""
    bounds = budget.bounds
    try:
        cost = _content_cost(page.contents, page.resources, {}, 0, bounds.pdf_page_content_bytes)
        if cost > bounds.pdf_page_glyphs:
            PDFPageInterpreter(resources, _CountingDevice(resources, bounds)).process_page(page)
    except _Exceeded as error:
        raise _refusal(name, f"第 {number + 1} 页{error}") from error
    budget.content_bytes += cost
    if budget.content_bytes > bounds.pdf_content_bytes:
        total = bounds.pdf_content_bytes // 2**20
        raise _refusal(name, f"到第 {number + 1} 页为止，页面内容解压后共超过 {total} MB")


def count_glyphs(glyphs: int, number: int, budget: ContentBudget, name: str) -> None:
    """Add the glyphs page `number` drew to the document's; over `pdf_glyphs` raises UnsafeArchive."""
    budget.glyphs += glyphs
    if budget.glyphs > budget.bounds.pdf_glyphs:
        raise _refusal(name, f"到第 {number + 1} 页为止，字形共超过 {budget.bounds.pdf_glyphs:,} 个")


def _refusal(name: str, reason: str) -> UnsafeArchive:
    return UnsafeArchive(f"{name}: PDF {reason}，超出可处理的上限（疑似恶意构造），拒绝读取；"
                         "如是正常文件，请重新导出或拆分后再导入")


def _content_cost(streams: list, resources: object, memo: dict[int, int], depth: int, limit: int) -> int:
    """Inflated bytes of `streams`, each form they draw counted as often as drawn; over `limit` raises _Exceeded."""
    if depth > _MAX_FORM_DEPTH:
        raise _Exceeded(f"的表单对象嵌套超过 {_MAX_FORM_DEPTH} 层")
    total = 0
    for stream in (resolve1(item) for item in streams):
        if not isinstance(stream, PDFStream):
            continue
        total += _inflated_size(stream, limit - total, limit)
        forms = _forms(resolve1(resources))
        for drawn, count in _drawn_names(stream.get_data()).items():
            if (form := forms.get(drawn)) is not None:
                form_resources = resolve1(form.get("Resources")) or resources
                key = id(form)
                if key not in memo:
                    memo[key] = _content_cost([form], form_resources, memo, depth + 1, limit)
                total += count * memo[key]
        if total > limit:
            raise _Exceeded(f"内容解压后超过 {limit // 2**20} MB")
    return total


def _inflated_size(stream: PDFStream, limit: int, page_limit: int) -> int:
    """The stream's decoded size, found without ever holding more than `limit` bytes of output; over
    `limit` raises _Exceeded before pdfminer would decode it. Flate and LZW steps are counted a
    megabyte at a time; the other filters expand by small factors and are applied once bounded."""
    if stream.data is not None:
        size = len(stream.data)
    else:
        data = stream.rawdata or b""
        if stream.decipher and stream.objid is not None and stream.genno is not None:
            data = stream.decipher(stream.objid, stream.genno, data, stream.attrs)
        size, filters = len(data), stream.get_filters()
        for position, (name, _) in enumerate(filters):
            keep = position < len(filters) - 1  # a later filter needs this one's output
            data, size = _decode_step(name, data, limit, keep)
            if size > limit:
                break
    if size > limit:
        raise _Exceeded(f"内容解压后超过 {page_limit // 2**20} MB")
    return size


def _decode_step(name: object, data: bytes, limit: int, keep: bool) -> tuple[bytes, int]:
    """One filter applied to `data`: (its output when `keep`, else b"", the output's size)."""
    if name in LITERALS_FLATE_DECODE:
        chunks = _bounded(_inflated_chunks(data), limit)
    elif name in LITERALS_LZW_DECODE:
        chunks = _bounded(LZWDecoder(io.BytesIO(data)).run(), limit)
    elif name in _SMALL_EXPANSION and len(data) * _SMALL_EXPANSION[name] <= limit:
        chunks = [_SMALL_DECODERS[name](data)]
    elif name in _SMALL_EXPANSION:
        return b"", limit + 1
    else:  # image filters (DCT, JBIG2, CCITT): pdfminer does not decode them for content
        chunks = [data]
    output = b"".join(chunks) if keep else b""
    return output, (len(output) if keep else sum(map(len, chunks)))


def _bounded(chunks: Iterator[bytes], limit: int) -> list[bytes]:
    """The chunks until their sizes pass `limit` (one more chunk at most)."""
    kept, size = [], 0
    for chunk in chunks:
        kept.append(chunk)
        size += len(chunk)
        if size > limit:
            break
    return kept


def _inflated_chunks(data: bytes) -> Iterator[bytes]:
    inflater = zlib.decompressobj()
    try:
        pending = data
        while pending and not inflater.eof:
            yield inflater.decompress(pending, 2**20)
            pending = inflater.unconsumed_tail
    except zlib.error:
        return  # pdfminer keeps what inflated before the error; so do we


def _forms(resources: object) -> dict[str, PDFStream]:
    if not isinstance(resources, dict):
        return {}
    xobjects = resolve1(resources.get("XObject"))
    if not isinstance(xobjects, dict):
        return {}
    forms = {}
    for key, value in xobjects.items():
        stream = resolve1(value)
        if isinstance(stream, PDFStream) and getattr(stream.get("Subtype"), "name", "") == "Form":
            forms[str(key)] = stream
    return forms


def _drawn_names(content: bytes) -> dict[str, int]:
    """How often each XObject name is drawn (`/Name Do`); names in strings count too, which only overestimates."""
    counts: dict[str, int] = {}
    for match in _DO.finditer(content):
        name = _NAME_ESCAPE.sub(lambda escape: bytes([int(escape.group(1), 16)]), match.group(1)).decode("latin-1")
        counts[name] = counts.get(name, 0) + 1
    return counts


class _CountingDevice(PDFDevice):
    """Counts what a page draws and stops at the bounds; builds nothing."""

    def __init__(self, resources: PDFResourceManager, bounds: WorkBounds) -> None:
        super().__init__(resources)
        self.bounds = bounds
        self.glyphs = 0
        self.objects = 0

    def render_string(self, textstate, seq, ncs, graphicstate) -> None:  # type: ignore[no-untyped-def]
        font = textstate.font
        for item in seq:
            if isinstance(item, bytes):
                self.glyphs += len(font.decode(item)) if font is not None else len(item)
        if self.glyphs > self.bounds.pdf_page_glyphs:
            raise _Exceeded(f"的字形超过 {self.bounds.pdf_page_glyphs:,} 个")

    def paint_path(self, graphicstate, stroke, fill, evenodd, path) -> None:  # type: ignore[no-untyped-def]
        self._add_objects(max(1, sum(1 for segment in path if segment and segment[0] == "m")))

    def render_image(self, name, stream) -> None:  # type: ignore[no-untyped-def]
        self._add_objects(1)

    def _add_objects(self, count: int) -> None:
        self.objects += count
        if self.objects > self.bounds.pdf_page_objects:
            raise _Exceeded(f"的图形对象超过 {self.bounds.pdf_page_objects:,} 个")
