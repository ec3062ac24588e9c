"""The records ingest produces. Frozen: functions return new values, nobody mutates one.

A `Document` holds its `Clause`s in reading order; a clause holds the `Task`s its responsibility
markers delimit; each task lists its `Responsibility`s. Inherited responsibilities («以下均需…落实，
不再列出») sit on the clause, not on a task, because no marker of that clause names them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

ROLES = ("lead", "co", "support", "inherited")
LEVELS = ("national", "provincial", "municipal", "district", "unknown")


@dataclass(frozen=True)
class OcrLine:
    """A line read by OCR, as recognised, with its confidence (0–1)."""

    page: int  # 1-based
    text: str
    confidence: float


@dataclass(frozen=True)
class SourceText:
    """What a reader returns: paragraphs in reading order plus whatever metadata the format carries."""

    blocks: tuple[str, ...]
    format: str  # txt | html | docx | pdf | md | ofd | png jpeg tiff bmp | doc wps rtf odt
    # utf-8 | gb18030 | big5 | binary formats: the container name; "ocr:1-15" when those pages were
    # read by OCR (metadata["ocr"] holds the same page list); "libreoffice" for a converted .doc/.wps/.rtf/.odt
    encoding: str
    sha256: str
    source: str
    metadata: Mapping[str, str] = field(default_factory=dict)
    ocr: tuple[OcrLine, ...] = ()  # every line read by OCR, in reading order


@dataclass(frozen=True)
class Responsibility:
    name: str  # as printed
    canonical: str  # Simplified, one name per body (市发改委 -> 武汉市发展和改革委员会)
    role: str  # one of ROLES
    basis: str  # where the role came from, e.g. "牵头", "rule:列第一位者为牵头单位", "first-listed"
    level: str = "unknown"  # one of LEVELS
    includes: tuple[str, ...] = ()  # 〈含开发区、长江新区…〉


@dataclass(frozen=True)
class Task:
    text: str  # the span the marker covers, marker excluded, original script
    marker: str  # the marker as printed, e.g. 「（市发改委、市生态环境局按职责分工落实）」
    departments: tuple[Responsibility, ...]


@dataclass(frozen=True)
class Target:
    year: int
    indicator: str
    value: str
    unit: str
    text: str  # the sentence it came from


@dataclass(frozen=True)
class Citation:
    text: str  # as printed
    kind: str  # title | doc_number | article
    title: str = ""
    doc_number: str = ""
    article: str = ""


@dataclass(frozen=True)
class Clause:
    id: str
    kind: str  # heading kind (section, item, article, …) or preamble / notice / signature
    number: str  # as printed, e.g. 「（十二）」 or 「第三条」; "" for unnumbered clauses
    path: tuple[str, ...]  # numbering path, e.g. ("s4", "p12"); the id is derived from it
    heading_path: tuple[str, ...]  # titles of the enclosing headings
    title: str
    text: str
    tasks: tuple[Task, ...] = ()
    inherited: tuple[Responsibility, ...] = ()
    topics: tuple[str, ...] = ()
    measures: tuple[str, ...] = ()
    targets: tuple[Target, ...] = ()
    citations: tuple[Citation, ...] = ()

    @property
    def departments(self) -> tuple[Responsibility, ...]:
        """Union of the tasks' departments (first occurrence wins) plus inherited ones."""
        seen: dict[tuple[str, str], Responsibility] = {}
        for task in self.tasks:
            for department in task.departments:
                seen.setdefault((department.canonical, department.role), department)
        for department in self.inherited:
            seen.setdefault((department.canonical, department.role), department)
        return tuple(seen.values())


@dataclass(frozen=True)
class Document:
    id: str
    title: str
    doc_number: str
    issuers: tuple[str, ...]
    date: str  # ISO yyyy-mm-dd, or "" when unknown
    level: str
    source: str
    sha256: str
    script: str  # traditional | simplified
    format: str
    encoding: str
    addressees: str = ""
    aliases: tuple[tuple[str, str], ...] = ()  # (alias, canonical) pairs learned from this document
    clauses: tuple[Clause, ...] = ()
