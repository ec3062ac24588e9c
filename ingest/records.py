"""The records ingest produces. Frozen: functions return new values, nobody mutates one.

A `Document` holds its `Clause`s in reading order; a clause holds the `Task`s its responsibility
markers delimit; each task lists its `Responsibility`s. Inherited responsibilities («以下均需…落实，
不再列出») sit on the clause, not on a task, because no marker of that clause names them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Mapping



class Role(enum.StrEnum):
    """A unit's part in a task, in the order pages and exports list them."""

    LEAD = "lead"  # 牵头
    CO = "co"  # 责任 (named without a lead among them, or 会同/责任单位)
    SUPPORT = "support"  # 配合
    INHERITED = "inherited"  # 承继: named once for the measures below it

    @property
    def label(self) -> str:
        return _ROLE_LABELS[self]

    @property
    def rank(self) -> int:
        """0 for a lead … 3 for an inherited duty: the order of strength."""
        return list(Role).index(self)


class Level(enum.StrEnum):
    """The level of government a document or a department belongs to, national first."""

    NATIONAL = "national"
    PROVINCIAL = "provincial"
    MUNICIPAL = "municipal"
    DISTRICT = "district"
    UNKNOWN = "unknown"

    @property
    def label(self) -> str:
        return _LEVEL_LABELS[self]

    @property
    def rank(self) -> int:
        return list(Level).index(self)


class Validity(enum.StrEnum):
    """Whether a document is in force: stated by its text (「自…起施行」), a manifest or staff, or found
    from a newer document that repeals or amends it (index.reads)."""

    VALID = "valid"  # 有效
    AMENDED = "amended"  # 已修订: a newer document amends it
    REPEALED = "repealed"  # 已废止
    UNKNOWN = "unknown"

    @property
    def label(self) -> str:
        return _VALIDITY_LABELS[self]


_VALIDITY_LABELS = {Validity.VALID: "有效", Validity.AMENDED: "已修订", Validity.REPEALED: "已废止", Validity.UNKNOWN: "未知"}
_ROLE_LABELS = {Role.LEAD: "牵头", Role.CO: "责任", Role.SUPPORT: "配合", Role.INHERITED: "承继"}
_LEVEL_LABELS = {Level.NATIONAL: "国家", Level.PROVINCIAL: "省级", Level.MUNICIPAL: "市级", Level.DISTRICT: "区县",
                 Level.UNKNOWN: "未知"}


@dataclass(frozen=True)
class SourceTable:
    """A table as its reader found it. Cells are plain text (a line break inside a cell kept as "\n");
    a merged cell's text is repeated in every row and column it spans; empty cells are ""."""

    rows: tuple[tuple[str, ...], ...]
    start: int  # blocks[start:end] are this table's rows as text blocks, as readers give them today
    end: int


@dataclass(frozen=True)
class OcrLine:
    """A line read by OCR, as recognised, with its confidence (0–1)."""

    page: int  # 1-based
    text: str
    confidence: float


@dataclass(frozen=True)
class SourceText:
    """What a reader returns: paragraphs in reading order, the tables among them, and whatever metadata
    the format carries (keys: title, doc_number, issuer, date, published, …; see ingest/page_metadata.py)."""

    blocks: tuple[str, ...]
    format: str  # txt | html | docx | pdf | md | ofd | png jpeg tiff bmp | doc wps rtf odt
    # utf-8 | gb18030 | big5 | binary formats: the container name; "ocr:1-15" when those pages were
    # read by OCR (metadata["ocr"] holds the same page list); "libreoffice" for a converted .doc/.wps/.rtf/.odt
    encoding: str
    sha256: str
    source: str
    metadata: Mapping[str, str] = field(default_factory=dict)
    tables: tuple[SourceTable, ...] = ()
    ocr: tuple[OcrLine, ...] = ()  # every line read by OCR, in reading order


class LeadBasis(str, enum.Enum):
    """Where a lead came from: stated (牵头, a 牵头单位 label or column), a document rule
    (列第一位者为牵头单位), or presumed from list order by convention."""

    STATED = "stated"
    RULE = "rule"
    PRESUMED = "presumed"


PRESUMED_BASIS = "first-listed"


@dataclass(frozen=True)
class Responsibility:
    name: str  # as printed
    canonical: str  # Simplified, one name per body (市发改委 -> 武汉市发展和改革委员会)
    role: Role
    basis: str  # where the role came from: the verb or label ("牵头", "牵头单位", "table:牵头单位"),
    # "rule:列第一位者为牵头单位", "first-listed" (presumed), "listed", "配合", "inherited:…"
    level: Level = Level.UNKNOWN
    includes: tuple[str, ...] = ()  # 〈含开发区、长江新区…〉

    @property
    def lead_basis(self) -> LeadBasis | None:
        """For a lead, whether it is stated, ruled or presumed; None for other roles."""
        if self.role != Role.LEAD:
            return None
        if self.basis.startswith("rule:"):
            return LeadBasis.RULE
        return LeadBasis.PRESUMED if self.basis == PRESUMED_BASIS else LeadBasis.STATED


@dataclass(frozen=True)
class Task:
    text: str  # the span the marker covers, marker excluded (a sentence marker: its sentence), original script
    marker: str  # the marker as printed, e.g. 「（市发改委、市生态环境局按职责分工落实）」
    departments: tuple[Responsibility, ...]
    kind: str = "paren"  # paren | labelled | line | sentence | duty | table (ingest.markers)
    deadline: str = ""  # 「完成时限：2022年4月」 or a table's 完成时限 cell, as printed


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
    level: Level
    source: str
    sha256: str
    script: str  # traditional | simplified
    format: str
    encoding: str
    addressees: str = ""
    aliases: tuple[tuple[str, str], ...] = ()  # (alias, canonical) pairs learned from this document
    clauses: tuple[Clause, ...] = ()
    # As ingested: what its text or manifest says; as read from a store: what holds (index.reads)
    validity: Validity = Validity.UNKNOWN
    changes: tuple[Change, ...] = ()  # the older documents it repeals or amends


@dataclass(frozen=True)
class Change:
    """A document this one repeals or amends, named as printed: 「1991年…发布的《专利代理暂行规定》同时废止」."""

    title: str  # inside the 《》
    validity: Validity  # REPEALED or AMENDED: what the named document becomes
