"""Read a source file into paragraphs (`SourceText`). Dispatch by file type; text decoding.

Plain text is decoded strictly: UTF-8 (with or without BOM) first, then GB18030 and Big5; when both
legacy encodings decode, the one whose non-ASCII characters are more often among the corpus's
frequent characters (ingest/data/common_chars.txt, both scripts) and common punctuation wins, for
short texts too; GB18030 on a tie. The chosen encoding is recorded on the `SourceText`.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import replace
from pathlib import Path
from typing import Callable

from . import docx_reader, html_reader, image_reader, markdown_reader, ofd_reader, office, pdf_reader
from .errors import EmptyDocument, FileTooLarge, UndecodableText, UnsupportedFormat
from .ocr import PlacedLine, page_ranges
from .options import ReadOptions
from .records import OcrLine, SourceText

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
_DATA = Path(__file__).parent / "data"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_COMMON_PUNCTUATION = frozenset("，。、；：？！“”‘’（）《》〈〉「」『』【】〔〕…—–·％　～－／＋＝×÷℃№"
                                "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳▲△■□●○◆◇★☆→")
# 标题: …  /  发文机关: …  /  文号: …  then a line of dashes: a crawler's header. Known keys are
# mapped to metadata names; other keys are kept under their own name.
_HEADER_LINE = re.compile(r"^(?P<key>[^\s:：]{1,20})[:：]\s*(?P<value>.*)$")
_HEADER_KEYS = {"标题": "title", "发文机关": "issuer", "文号": "doc_number", "来源URL": "url",
                "抓取时间": "retrieved", "发布日期": "published", "成文日期": "date", "省份": "province"}


@functools.cache
def _common_characters() -> frozenset[str]:
    lines = (_DATA / "common_chars.txt").read_text(encoding="utf-8").splitlines()
    return frozenset("".join(line for line in lines if not line.startswith("#")))


def decode_text(data: bytes, name: str) -> tuple[str, str]:
    """Decode bytes of a text file; returns (text, encoding) or raises UndecodableText."""
    if data.startswith(b"\xef\xbb\xbf"):
        return _checked(_strict(data[3:], "utf-8", name), name), "utf-8"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _checked(_strict(data, "utf-16", name), name), "utf-16"
    try:
        return _checked(data.decode("utf-8"), name), "utf-8"
    except UnicodeDecodeError:
        pass
    candidates = []
    for encoding in ("gb18030", "big5"):
        try:
            candidates.append((_plausibility(text := data.decode(encoding)), encoding == "gb18030", encoding, text))
        except UnicodeDecodeError:
            continue
    if not candidates:
        raise UndecodableText(f"{name}: 无法识别文本编码（不是 UTF-8、GB18030/GBK 或 Big5），请转存为 UTF-8 后重试")
    *_, encoding, text = max(candidates)  # equal scores: GB18030, the more common encoding
    if _rare_share(text) > 0.5:
        raise UndecodableText(f"{name}: 文本解码后大多是罕见字，编码可能标错（试过 GB18030、Big5），请转存为 UTF-8 后重试")
    return _checked(text, name), encoding


def _strict(data: bytes, encoding: str, name: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        raise UndecodableText(f"{name}: 按 {encoding} 解码失败（{error.reason}），请转存为 UTF-8 后重试") from error


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def _plausibility(text: str) -> float:
    """Share of the non-ASCII characters that are frequent CJK characters or common punctuation; 1.0
    when there are none. Short texts count too: a wrong legacy decoding gives rare characters, private
    use code points or bopomofo in place of the text's characters and punctuation."""
    characters = [char for char in text if ord(char) > 0x7F]
    if not characters:
        return 1.0
    common = _common_characters()
    return sum(char in common or char in _COMMON_PUNCTUATION for char in characters) / len(characters)


def _rare_share(text: str) -> float:
    """Share of CJK characters that are not frequent ones; 0.0 when the text has almost no CJK."""
    characters = _CJK.findall(text)
    if len(characters) < 20:
        return 0.0
    common = _common_characters()
    return sum(char not in common for char in characters) / len(characters)


def _checked(text: str, name: str) -> str:
    controls = len(_CONTROL.findall(text))
    if "\x00" in text or controls > max(8, len(text) // 100):
        raise UndecodableText(f"{name}: 含有大量控制字符，像是二进制文件而不是文本")
    return _CONTROL.sub("", text)


def split_blocks(text: str) -> tuple[str, ...]:
    """Non-empty lines, stripped of ASCII and ideographic spaces."""
    return tuple(line for raw in text.splitlines() if (line := raw.strip(" \t\u3000\xa0\ufeff")))


def read_text_file(path: Path, data: bytes, sha256: str) -> SourceText:
    text, encoding = decode_text(data, path.name)
    blocks = split_blocks(text)
    metadata: dict[str, str] = {}
    if "----" in blocks[:12]:
        cut = blocks.index("----")
        header = [_HEADER_LINE.match(line) for line in blocks[:cut]]
        if header and all(header):
            metadata = {_HEADER_KEYS.get(m["key"], m["key"]): m["value"].strip() for m in header if m["value"].strip()}
            blocks = blocks[cut + 1:]
    return SourceText(blocks, "txt", encoding, sha256, str(path), metadata)


def _read_html(path: Path, data: bytes, sha256: str) -> SourceText:
    """Pages are often mislabelled: bytes that are valid UTF-8 are read as UTF-8 whatever the <meta>
    says; otherwise the declared charset, and when that fails too, the plain-text rules."""
    declared = html_reader.declared_charset(data)
    text, encoding = None, ""
    if declared and declared != "utf-8" and not _is_utf8(data):
        try:
            text, encoding = _checked(data.decode(declared), path.name), declared
        except UnicodeDecodeError:
            pass
    if text is None:
        text, encoding = decode_text(data, path.name)
    blocks, tables, metadata = html_reader.html_blocks(text)
    return SourceText(blocks, "html", encoding, sha256, str(path), metadata, tables)


def _read_markdown(path: Path, data: bytes, sha256: str) -> SourceText:
    text, encoding = decode_text(data, path.name)
    blocks, tables, metadata = markdown_reader.markdown_blocks(text, path.stem)
    return SourceText(blocks, "md", encoding, sha256, str(path), metadata, tables)


def _read_docx(path: Path, data: bytes, sha256: str, options: ReadOptions) -> SourceText:
    blocks, tables = docx_reader.docx_blocks(path, options.bounds)
    return SourceText(blocks, "docx", "docx", sha256, str(path), {}, tables)


def _read_pdf(path: Path, data: bytes, sha256: str, options: ReadOptions) -> SourceText:
    text = pdf_reader.read_pdf(path, options)
    return _recognised(SourceText(text.blocks, "pdf", "pdf", sha256, str(path), {}, text.tables), text.ocr)


def _read_image(path: Path, data: bytes, sha256: str, options: ReadOptions) -> SourceText:
    blocks, lines = image_reader.read_image(path, options)
    kind = {".jpg": "jpeg", ".tif": "tiff"}.get(path.suffix.lower(), path.suffix.lower().lstrip("."))
    return _recognised(SourceText(blocks, kind, kind, sha256, str(path), {}), lines)


def _read_ofd(path: Path, data: bytes, sha256: str, options: ReadOptions) -> SourceText:
    return SourceText(ofd_reader.ofd_blocks(path, options), "ofd", "ofd", sha256, str(path), {})


def _read_office(path: Path, data: bytes, sha256: str, options: ReadOptions) -> SourceText:
    blocks, tables = office.office_blocks(path, options)
    return SourceText(blocks, path.suffix.lower().lstrip("."), "libreoffice", sha256, str(path), {}, tables)


def _recognised(source: SourceText, lines: tuple[PlacedLine, ...]) -> SourceText:
    """A source some of whose pages were read by OCR says so: encoding 「ocr:1-15」, metadata["ocr"], the lines."""
    if not lines:
        return source
    pages = page_ranges([line.page for line in lines])
    return replace(source, encoding=f"ocr:{pages.replace(' ', '')}", metadata={**source.metadata, "ocr": pages},
                   ocr=tuple(OcrLine(line.page + 1, line.text, line.confidence) for line in lines))


READERS: dict[str, Callable[[Path, bytes, str], SourceText]] = {
    ".txt": read_text_file, ".text": read_text_file,
    ".html": _read_html, ".htm": _read_html, ".shtml": _read_html,
    ".md": _read_markdown, ".markdown": _read_markdown,
}
# Readers that take the reading options (page limit, OCR, timeout, work bounds).
PAGED_READERS: dict[str, Callable[[Path, bytes, str, ReadOptions], SourceText]] = {
    ".pdf": _read_pdf, ".ofd": _read_ofd, ".docx": _read_docx,
    **{suffix: _read_image for suffix in image_reader.IMAGE_SUFFIXES},
    **{suffix: _read_office for suffix in office.OFFICE_SUFFIXES},
}
SUFFIXES = frozenset(READERS) | frozenset(PAGED_READERS)


def reader_for(name: str) -> Callable[[Path, bytes, str, ReadOptions], SourceText]:
    """The reader for a file name's type; raises UnsupportedFormat if none."""
    suffix = Path(name).suffix.lower()
    if (paged := PAGED_READERS.get(suffix)) is not None:
        return paged
    if (reader := READERS.get(suffix)) is None:
        raise UnsupportedFormat(f"{name}: 不支持的文件类型 {Path(name).suffix or '（无扩展名）'}，"
                                f"支持：{' '.join(sorted(SUFFIXES))}")
    return lambda path, data, sha256, options: reader(path, data, sha256)


def read_source(path: Path | str, *, max_bytes: int = DEFAULT_MAX_BYTES,
                options: ReadOptions = ReadOptions()) -> SourceText:
    """Read one file into paragraphs; raises an `InputError` subclass naming the file and the reason."""
    path = Path(path)
    reader = reader_for(path.name)
    size = path.stat().st_size
    if size == 0:
        raise EmptyDocument(f"{path.name}: 空文件（0 字节）")
    if size > max_bytes:
        raise FileTooLarge(f"{path.name}: 文件 {size / 2**20:.0f} MB，超过上限 {max_bytes / 2**20:.0f} MB；"
                           "请拆分文件或调大 --max-mb")
    data = path.read_bytes()
    source = reader(path, data, hashlib.sha256(data).hexdigest(), options)
    if not any(_CJK.search(block) or re.search(r"\w{3}", block) for block in source.blocks):
        raise EmptyDocument(f"{path.name}: 没有可读的正文文字")
    return source
