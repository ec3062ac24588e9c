"""Zip containers (DOCX, OFD) are checked before any part is parsed: no entry may escape a folder,
inflate more than `MAX_COMPRESSION_RATIO` times its compressed size (past a megabyte), or make the
whole more than `MAX_UNCOMPRESSED_BYTES`. The sizes are the ones the zip declares; the readers that
inflate parts count what they inflate as well."""

from __future__ import annotations

import zipfile
from pathlib import Path, PurePosixPath

from .errors import UnsafeArchive

MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200


def check_entries(path: Path, entries: list[zipfile.ZipInfo], kind: str) -> None:
    """Raise UnsafeArchive, naming the file and the entry, for the first entry (or total) over the bounds.
    `kind` names the format in the message (DOCX, OFD)."""
    total = 0
    for entry in entries:
        name = PurePosixPath(entry.filename.replace("\\", "/"))
        if name.is_absolute() or ".." in name.parts:
            raise UnsafeArchive(f"{path.name}: {kind} 内含越界路径条目 {entry.filename!r}，拒绝读取")
        total += entry.file_size
        if entry.file_size > 1024 * 1024 and entry.file_size > MAX_COMPRESSION_RATIO * max(entry.compress_size, 1):
            raise UnsafeArchive(f"{path.name}: {kind} 条目 {entry.filename} 压缩比异常（疑似 zip 炸弹），拒绝读取")
    if total > MAX_UNCOMPRESSED_BYTES:
        raise UnsafeArchive(f"{path.name}: {kind} 解压后 {total / 2**20:.0f} MB，超过 "
                            f"{MAX_UNCOMPRESSED_BYTES / 2**20:.0f} MB 上限（疑似 zip 炸弹）")
