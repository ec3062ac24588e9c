"""search_api: the `policykb` command line, the HTTP service (`create_app`) and its web page.

The names below are imported on first use, so the command line starts without loading FastAPI.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {"create_app": ".app", "Settings": ".settings", "get_settings": ".settings",
            "clause_json": ".views", "document_json": ".views", "hit_json": ".views"}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'search_api' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name], __name__), name)
