"""Markdown laws as in LawRefBook: `# 标题`, optional `# 编名`, notes, `<!-- INFO END -->`, `## 第一章`."""

from __future__ import annotations

import re

_DATED_NAME = re.compile(r"[（(](\d{4}-\d{2}-\d{2})[)）]$")


def markdown_blocks(text: str, stem: str) -> tuple[tuple[str, ...], dict[str, str]]:
    lines = [line.strip() for line in text.splitlines()]
    if lines and lines[0] == "---":  # YAML front matter
        end = lines.index("---", 1) if "---" in lines[1:] else 0
        lines = lines[end + 1:]
    titles = [line[2:].strip() for line in lines if line.startswith("# ")]
    metadata: dict[str, str] = {}
    if titles:
        metadata["title"] = titles[0]
    if len(titles) > 1:
        metadata["part"] = titles[1]
    if "<!-- INFO END -->" in lines:
        cut = lines.index("<!-- INFO END -->")
        notes = [line for line in lines[:cut] if line and not line.startswith("#")]
        metadata["notes"] = "\n".join(notes)
        lines = lines[cut + 1:]
    if dated := _DATED_NAME.search(stem):
        metadata["date"] = dated.group(1)
    blocks = tuple(line.lstrip("#").strip() for line in lines
                   if line and not line.startswith("# ") and not line.startswith("<!--"))
    return blocks, metadata
