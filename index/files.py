"""Writing derived files safely: to a temporary name beside the target, then renamed into place."""

from __future__ import annotations

import hashlib
import os
import secrets
import time
from pathlib import Path
from typing import Callable

STALE_SECONDS = 3600  # a temporary file this old is a killed writer's: removed by the next writer


def write_atomically(path: Path, write: Callable[[Path], None], suffix: str = ".tmp") -> None:
    """Call `write(temporary)`, flush it to disk and rename it over `path`: readers (and a restart
    after a crash or power loss) see the old file or the new one, never half of one.

    The temporary name is unique (`<name>.<random><suffix>`), so two writers of one target (two
    processes, two requests) never write into each other's file; the last rename wins whole.
    `suffix` keeps writers that insist on an extension (numpy's .npz) writing exactly where asked."""
    _remove_stale(path, suffix)
    temporary = path.with_name(f"{path.name}.{secrets.token_hex(6)}{suffix}")
    try:
        write(temporary)
        with temporary.open("rb") as handle:
            os.fsync(handle.fileno())
        temporary.replace(path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def _remove_stale(path: Path, suffix: str) -> None:
    cutoff = time.time() - STALE_SECONDS
    for stale in path.parent.glob(f"{path.name}.*{suffix}"):
        try:
            if stale.stat().st_mtime < cutoff:
                stale.unlink()
        except FileNotFoundError:  # another writer renamed or removed it meanwhile
            pass


def file_sha256(path: Path) -> str:
    """The file's sha256, read in 1 MiB pieces."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
