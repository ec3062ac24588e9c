"""DOCX to paragraphs with python-docx, after checking the zip container is safe to open."""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path, PurePosixPath

import docx
from docx.opc.exceptions import PackageNotFoundError
from lxml.etree import XMLSyntaxError

from .errors import CorruptFile, EncryptedFile, UnsafeArchive

MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200
# Word saves a password-protected .docx as an OLE compound file (the container of old .doc files).
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def check_archive(path: Path) -> None:
    """Refuse zip bombs and entries that would escape a folder, before any XML is parsed."""
    with path.open("rb") as handle:
        if handle.read(len(_OLE_MAGIC)) == _OLE_MAGIC:
            raise EncryptedFile(f"{path.name}: DOCX 已加密（需要密码），或是改了扩展名的旧版 .doc；"
                                "请提供未加密的 .docx")
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, NotImplementedError) as error:
        raise CorruptFile(f"{path.name}: 不是有效的 DOCX（zip 容器损坏：{error}）") from error
    total = 0
    for entry in entries:
        name = PurePosixPath(entry.filename.replace("\\", "/"))
        if name.is_absolute() or ".." in name.parts:
            raise UnsafeArchive(f"{path.name}: DOCX 内含越界路径条目 {entry.filename!r}，拒绝读取")
        total += entry.file_size
        if entry.file_size > 1024 * 1024 and entry.file_size > MAX_COMPRESSION_RATIO * max(entry.compress_size, 1):
            raise UnsafeArchive(f"{path.name}: DOCX 条目 {entry.filename} 压缩比异常（疑似 zip 炸弹），拒绝读取")
    if total > MAX_UNCOMPRESSED_BYTES:
        raise UnsafeArchive(f"{path.name}: DOCX 解压后 {total / 2**20:.0f} MB，超过 "
                            f"{MAX_UNCOMPRESSED_BYTES / 2**20:.0f} MB 上限（疑似 zip 炸弹）")


# What python-docx and zipfile raise on malformed files (found by fuzzing: tests/test_properties.py).
_MALFORMED = (PackageNotFoundError, KeyError, ValueError, OSError, EOFError, NotImplementedError,
              zipfile.BadZipFile, zlib.error, XMLSyntaxError)


def docx_blocks(path: Path) -> tuple[str, ...]:
    """Paragraphs and table rows of the body, in document order."""
    check_archive(path)
    try:
        document = docx.Document(str(path))
    except _MALFORMED as error:
        raise CorruptFile(f"{path.name}: 无法打开 DOCX（{error}）") from error
    blocks: list[str] = []
    for item in document.iter_inner_content():
        if isinstance(item, docx.table.Table):
            for row in item.rows:
                cells = [cell.text.strip() for cell in row.cells]
                if row_text := "　".join(dict.fromkeys(cell for cell in cells if cell)):
                    blocks.append(row_text)
        elif text := item.text.strip(" \t\u3000\xa0"):
            blocks.extend(line.strip() for line in text.splitlines() if line.strip())
    return tuple(blocks)
