"""Writing derived files safely: to a temporary name beside the target, then renamed into place."""

from __future__ import annotations

from pathlib import Path
from typing import Callable


def write_atomically(path: Path, write: Callable[[Path], None], suffix: str = ".tmp") -> None:
    """Call `write(temporary)` and rename the result over `path`; readers never see a half file.

    `suffix` keeps writers that insist on an extension (numpy's .npz) writing exactly where asked."""
    temporary = path.with_name(path.name + suffix)
    write(temporary)
    temporary.replace(path)
