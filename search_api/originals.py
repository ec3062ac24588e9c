"""Uploaded originals: `uploads/<sha256><ext>`, one file per stored document that came by upload.

An upload is first written under a private name (`.incoming-<random><ext>`, so two uploads of the
same bytes never share a file), parsed from there, and given its content name only once its
document is stored; a refused or failed upload removes its own file and nothing else. At start-up
`reconcile` removes what a killed or failed upload left behind: incoming files, temporary files,
and originals whose content no stored document has.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
from pathlib import Path
from typing import Callable

logger = logging.getLogger(__name__)
_INCOMING = ".incoming-"
_ORIGINAL = re.compile(r"^(?P<sha256>[0-9a-f]{64})\.[0-9a-z]+$")


class Originals:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def receive(self, data: bytes, suffix: str) -> Path:
        """Write an upload under a name no other upload uses, flushed to disk."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{_INCOMING}{secrets.token_hex(8)}{suffix}"
        with path.open("xb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        return path

    def keep(self, incoming: Path, sha256: str) -> None:
        """Give a stored upload its content name; when the same bytes are already kept (under this or
        an equivalent extension, .txt and .text) the incoming copy goes instead."""
        if self.find(sha256):
            incoming.unlink(missing_ok=True)
        else:
            incoming.replace(self.folder / f"{sha256}{incoming.suffix}")

    def find(self, sha256: str) -> list[Path]:
        return sorted(self.folder.glob(f"{sha256}.*")) if self.folder.is_dir() else []

    def drop(self, sha256: str) -> None:
        for path in self.find(sha256):
            path.unlink(missing_ok=True)

    def reconcile(self, is_stored: Callable[[str], bool]) -> list[Path]:
        """Remove files no stored document accounts for; returns them (each is logged)."""
        removed = []
        for path in sorted(self.folder.iterdir()) if self.folder.is_dir() else []:
            match = _ORIGINAL.match(path.name)
            if path.is_file() and (match is None or not is_stored(match["sha256"])):
                path.unlink(missing_ok=True)
                removed.append(path)
                logger.warning("removed %s from %s: no stored document has these contents (an upload that was "
                               "killed or failed)", path.name, self.folder)
        return removed
