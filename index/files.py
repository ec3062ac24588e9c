"""Writing derived files safely: to a temporary name beside the target, then renamed into place."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable


def write_atomically(path: Path, write: Callable[[Path], None], suffix: str = ".tmp") -> None:
    """Call `write(temporary)`, flush it to disk and rename it over `path`: readers (and a restart
    after a crash or power loss) see the old file or the new one, never half of one.

    `suffix` keeps writers that insist on an extension (numpy's .npz) writing exactly where asked."""
    temporary = path.with_name(path.name + suffix)
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
