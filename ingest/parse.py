"""From paragraphs to a `Document`: front matter, heading tree, tasks and their departments.

    blocks ─► front matter (title, 文号, notice, signature; noise dropped)
           └► body ─► clauses by heading grammar ─► markers split tasks ─► roles and aliases
                                                 └► tags, targets, citations

Document-wide state flows forward through the clauses in reading order: a marker's
「列第一位者为牵头单位，下同」 applies to every later marker, and 「以下均需…落实，不再列出」 makes its
units inherited by that measure and every later one at the same or a deeper level.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Mapping

from . import departments
from .errors import ParseError
from .frontmatter import FrontMatter, enactment_date, is_noise, parse_front_matter, signature_date, split_signature
from .headings import ARTICLE_CHILD_KINDS, match_heading, run_in_title
from .identity import clause_id, document_id
from .inline import split_inline_headings
from .markers import Marker, find_markers
from .segments import LEAD_FIRST_RULE, Assignment
from .normalize import compact, detect_script, matching_copy
from .records import PRESUMED_BASIS, Clause, Document, Level, Responsibility, Role, SourceTable, SourceText, Task
from .task_tables import columns_of, task_rows
from .tagging import extract_citations, extract_targets, tag_clause
from .validity import read_validity

_SPECIAL_KINDS = ("notice", "preamble", "signature")
logger = logging.getLogger(__name__)
_PROVINCIAL_CITIES = frozenset({"北京市", "上海市", "天津市", "重庆市"})  # 直辖市: provincial-level


@dataclass
class _Draft:
    """A clause being collected: its heading and its paragraphs (original and matching copy)."""

    kind: str
    number: str
    path: tuple[str, ...]
    heading_path: tuple[str, ...]
    title: str = ""
    originals: list[str] = field(default_factory=list)
    copies: list[str] = field(default_factory=list)
    tables: list[SourceTable] = field(default_factory=list)  # task tables whose rows are in originals
    table_rows: set[int] = field(default_factory=set)  # indices of originals that are task-table rows

    def add(self, original: str, table: SourceTable | None = None) -> None:
        if table is not None:
            if not any(known is table for known in self.tables):
                self.tables.append(table)
            self.table_rows.add(len(self.originals))
        self.originals.append(original)
        self.copies.append(matching_copy(original))


@dataclass
class _Responsibilities:
    """What flows forward through a document while its markers are read."""

    locality: departments.Locality
    lead_rule: str = ""
    per_group: bool = False
    inherited: tuple[Responsibility, ...] = ()
    inherited_depth: int = 0


def parse_document(source: SourceText, overrides: Mapping[str, str] | None = None) -> Document:
    """Parse a read source into a Document. `overrides` (title, doc_number, issuer, date, level) win."""
    # Metadata keys used: title, doc_number, issuer, date, level, source, part, province, page_title, notes, validity.
    metadata = {**source.metadata, **(overrides or {})}
    task_table_of = {row: table for table in source.tables if columns_of(table) for row in range(table.start, table.end)}
    kept = [index for index, block in enumerate(source.blocks) if not is_noise(block)]
    # text that lost its line breaks is cut at its inline headings (table rows are left whole)
    pieces = split_inline_headings([source.blocks[index] for index in kept])
    pieces = [piece if kept[position] not in task_table_of else [source.blocks[kept[position]]]
              for position, piece in enumerate(pieces)]
    kept = [index for index, parts in zip(kept, pieces) for _ in parts]
    blocks = [part for parts in pieces for part in parts]
    first_heading = next((index for index, block in enumerate(blocks)
                          if match_heading(matching_copy(block), block)), len(blocks))
    front = parse_front_matter(blocks[:first_heading])
    body, trailing_signature, trailing_date = split_signature(blocks[first_heading:])
    title = metadata.get("title") or front.title or source.metadata.get("page_title", "") or _file_title(source.source)
    if not title:
        raise ParseError(f"{source.source}: 找不到文件标题，请在清单中提供 title")
    issuers = _issuers(metadata, front)
    city, province = departments.locality_of(title, issuers)
    if metadata.get("province"):  # a crawler's 省份 field: the document is a province's (上海市 included)
        city, province = "", metadata["province"]
    learned = departments.learn_aliases(list(front.issuer_short_names), list(front.issuers))
    locality = departments.Locality(city, province, learned, departments.district_of(title, issuers))
    doc_number = metadata.get("doc_number") or front.doc_number
    # A report titled 「2026年政府工作报告」 names its province only in the metadata: keep ids apart.
    province_named = not metadata.get("province") or compact(metadata["province"]) in compact(title)
    doc_id = document_id(doc_number, title if province_named else metadata["province"] + title, metadata.get("part", ""))
    body_tables = [task_table_of.get(kept[first_heading + offset]) for offset in range(len(body))]
    drafts = _drafts(front, body, trailing_signature, body_tables)
    if not any(draft.originals for draft in drafts):
        raise ParseError(f"{source.source}: 没有识别出正文（只有页面杂讯或空行）")
    rule, per_group = _noted_rule(drafts)
    clauses = _clauses(doc_id, drafts, _Responsibilities(locality, rule, per_group))
    # 成文日期: given, signed under the notice or at the end, a law's header, or a signature before the annexes
    date = metadata.get("date") or front.date or trailing_date or _enactment(
        [*metadata.get("notes", "").splitlines(), *blocks[:first_heading]]) or signature_date(body)
    validity, changes = read_validity(title, [*metadata.get("notes", "").splitlines(), *(c.text for c in clauses)],
                                      metadata.get("validity", ""), source.source)
    return Document(
        id=doc_id, title=title, doc_number=doc_number, issuers=issuers,
        date=date,
        level=_given_level(metadata.get("level"), source.source) or _level(
            city, province, doc_number, issuers, title, source.format),
        source=metadata.get("source") or source.source, sha256=source.sha256,
        script=detect_script("".join(source.blocks)), format=source.format, encoding=source.encoding,
        addressees=front.addressees, aliases=tuple(sorted(learned.items())), clauses=clauses, validity=validity,
        changes=changes)


def _enactment(front_blocks: list[str]) -> str:
    """A law's date from its header line (「（2020年5月28日第十三届全国人民代表大会第三次会议通过）」)."""
    return next((date for block in front_blocks if (date := enactment_date(block))), "")


def _file_title(source: str) -> str:
    """A document that prints no title line (an annex saved alone, a capture that lost its heading)
    is named after its file, as staff would name it: 「07_成都市_能源结构调整…方案.pdf」 → 「成都市 能源结构调整…方案」."""
    stem = re.sub(r"^[\d\s_.-]+", "", PurePath(source).stem)
    title = re.sub(r"[_]+", " ", stem).strip()
    if title:
        logger.warning("%s: 文件中没有标题行，以文件名作标题：%s", source, title)
    return title if re.search(r"[\u4e00-\u9fff]{2}", title) else ""


def _issuers(metadata: Mapping[str, str], front: FrontMatter) -> tuple[str, ...]:
    if metadata.get("issuer"):
        return tuple(name for name in re.split(r"[、,，\s]+", metadata["issuer"]) if name)
    return front.issuers or front.issuer_short_names


def _given_level(value: str | None, source: str) -> Level | None:
    """The level a manifest or caller gives (a Level's value, or its Chinese name), checked."""
    if not value:
        return None
    for level in Level:
        if value.strip() in (level.value, level.label):
            return level
    raise ParseError(f"{source}: 层级「{value}」无法识别；请在清单中写 " + "、".join(level.value for level in Level))


def _level(city: str, province: str, doc_number: str, issuers: tuple[str, ...], title: str, file_format: str) -> Level:
    """Where a document applies; laws in markdown with no locality in their title are national."""
    if re.match(r"^(?!关于)[\u4e00-\u9fa5]{1,6}(区|县)", compact(title)):
        return Level.DISTRICT
    if city in _PROVINCIAL_CITIES:
        return Level.PROVINCIAL
    if city:
        return Level.MUNICIPAL
    if province:
        return Level.PROVINCIAL
    if compact(doc_number).startswith("国") or any(re.search(r"国务院|部$|委$|总局$|全国人民代表大会", name)
                                                   for name in issuers) or file_format == "md" or \
            compact(title).startswith(("中华人民共和国", "最高人民", "全国人民代表大会", "国务院")):
        return Level.NATIONAL
    return Level.UNKNOWN


def _drafts(front: FrontMatter, body: list[str], trailing_signature: list[str],
            body_tables: list[SourceTable | None]) -> list[_Draft]:
    """Front-matter clauses, the body's clauses, then a closing signature block."""
    front_parts = [("notice", front.notice), ("signature", front.signature), ("preamble", front.preamble)]
    # A notice's own signature and the document's closing one both exist in some 转发 documents.
    paths = {"signature": "notice-signature" if trailing_signature else "signature"}
    drafts = [_lines_draft(kind, paths.get(kind, kind), lines) for kind, lines in front_parts if lines]
    drafts += _body_drafts(body, body_tables)
    if trailing_signature:
        drafts.append(_lines_draft("signature", "signature", trailing_signature))
    return drafts


def _lines_draft(kind: str, path: str, lines: tuple[str, ...] | list[str]) -> _Draft:
    draft = _Draft(kind, "", (path,), ())
    for line in lines:
        draft.add(line)
    return draft


def _body_drafts(body: list[str], body_tables: list[SourceTable | None]) -> list[_Draft]:
    """Split body paragraphs at headings; keep a stack of open headings for paths and heading paths.
    Rows of a task table stay in the clause the table stands in (they are its tasks)."""
    drafts: list[_Draft] = []
    stack: list[tuple[str, str, str]] = []  # (kind, path component, label for heading paths)
    used_paths: set[tuple[str, ...]] = set()
    for block, table in zip(body, body_tables):
        if table is not None:
            if not drafts:
                drafts.append(_Draft("preamble", "", ("preamble",), ()))
            drafts[-1].add(block, table)
            continue
        copy = matching_copy(block)
        heading = match_heading(copy, block)
        if heading and heading.kind in ARTICLE_CHILD_KINDS and any(kind == "article" for kind, _, _ in stack):
            heading = None
        if heading is None:
            if not drafts:
                drafts.append(_Draft("preamble", "", ("preamble",), ()))
            drafts[-1].add(block)
            continue
        kinds = [kind for kind, _, _ in stack]
        if heading.kind == "attachment":
            stack.clear()
        elif heading.kind in kinds:
            del stack[kinds.index(heading.kind):]
        rest = block[heading.rest_start:].strip()
        title = run_in_title(heading.kind, rest)
        label = heading.number + title
        heading_path = tuple(label for _, _, label in stack)
        stack.append((heading.kind, heading.component, label))
        path = (heading.component,) if heading.kind == "article" else tuple(component for _, component, _ in stack)
        path = _unique(path, used_paths)
        drafts.append(_Draft(heading.kind, heading.number, path, heading_path, title))
        if rest:
            drafts[-1].add(rest)
    return drafts


def _unique(path: tuple[str, ...], used: set[tuple[str, ...]]) -> tuple[str, ...]:
    """A repeated numbering path (a numbering slip in the source) gets -2, -3, … on its last part."""
    candidate, count = path, 1
    while candidate in used:
        count += 1
        candidate = (*path[:-1], f"{path[-1]}-{count}")
    used.add(candidate)
    return candidate


def _clauses(doc_id: str, drafts: list[_Draft], state: _Responsibilities) -> tuple[Clause, ...]:
    clauses = []
    for draft in drafts:
        text, copy = "\n".join(draft.originals), "\n".join(draft.copies)
        prose = [index for index in range(len(draft.originals)) if index not in draft.table_rows]
        prose_text = "\n".join(draft.originals[index] for index in prose)
        prose_copy = "\n".join(draft.copies[index] for index in prose)
        tasks = _tasks(prose_text, prose_copy, draft, state) if draft.kind != "signature" else ()
        tasks += tuple(task for table in draft.tables for task in _table_tasks(table, state))
        applies = (state.inherited and draft.kind not in _SPECIAL_KINDS and len(draft.path) >= state.inherited_depth)
        topics, measures = tag_clause(copy)
        targets = extract_targets(text, copy)
        if targets and "目标指标" not in measures:
            measures = ("目标指标", *measures)
        clauses.append(Clause(
            id=clause_id(doc_id, draft.path), kind=draft.kind, number=draft.number, path=draft.path,
            heading_path=draft.heading_path, title=draft.title, text=text, tasks=tasks,
            inherited=state.inherited if applies else (), topics=topics, measures=measures, targets=targets,
            citations=extract_citations(text, copy)))
    return tuple(clauses)


def _tasks(text: str, copy: str, draft: _Draft, state: _Responsibilities) -> tuple[Task, ...]:
    tasks, previous_end = [], 0
    markers = find_markers(text, copy)
    if draft.kind == "article" and not state.locality.own_prefix:
        # a national law's duties are cited by article, not split into tasks (STARD's laypeople ask the law
        # by article); a local 办法's 「区发展改革部门负责兑现第三条」 are tasks like a plan's
        markers = [marker for marker in markers if marker.kind not in ("sentence", "duty")]
    # 「（列第一位者为牵头单位，下同）」 or 「各项任务中排在第一位的为牵头单位」 outside any marker: a rule for every
    # later marker of the document
    free_rules = [rule for rule in LEAD_FIRST_RULE.finditer(copy)
                  if not any(marker.start <= rule.start() < marker.end for marker in markers)]
    for marker in markers:
        while free_rules and free_rules[0].start() < marker.start:
            rule_match = free_rules.pop(0)
            state.lead_rule = text[rule_match.start("rule"):rule_match.end("rule")]
            state.per_group = bool(rule_match.group("scope"))
        rule = marker.lead_rule or state.lead_rule
        if marker.lead_rule and marker.rule_onwards:
            state.lead_rule = marker.lead_rule
        if marker.task_start >= 0:  # a sentence or duty marker assigns its own sentence or paragraph; a
            # closing marker after it still covers its whole measure (the sentence's task lies inside)
            task_text = text[marker.task_start:marker.task_end].strip()
        else:
            task_text = text[previous_end:marker.start].strip()
            previous_end = marker.end
        per_group = marker.rule_per_group or (not marker.lead_rule and state.per_group)
        if marker.lead_rule and marker.rule_onwards:
            state.per_group = marker.rule_per_group
        tasks.append(Task(task_text, marker.text, _roles(marker.assignments, rule, state.locality, per_group),
                          marker.kind, marker.deadline))
        if marker.inherited:
            state.inherited = _inherited(marker, draft, state.locality)
            state.inherited_depth = len(draft.path)
    for rule_match in free_rules:
        state.lead_rule = text[rule_match.start("rule"):rule_match.end("rule")]
        state.per_group = bool(rule_match.group("scope"))
    return tuple(tasks)


def _roles(assignments: tuple[Assignment, ...], rule: str, locality: departments.Locality,
           per_group: bool = False) -> tuple[Responsibility, ...]:
    """Explicit 牵头/配合 win; else the first listed unit leads (of each group when the rule says so:
    「两省市列首位的为牵头单位」), by the document's rule or by convention.

    A unit printed without its place (「省发展改革委、科技厅」) takes the place of the unit before it."""
    explicit_lead = any(item.verb_class == "lead" for item in assignments)
    listed = [item for item in assignments if item.verb_class == "listed"]
    first_listed = {id(item) for group in {item.group for item in listed}
                    for item in [next(unit for unit in listed if unit.group == group)]} if per_group and rule \
        else {id(listed[0])} if listed else set()
    result: dict[str, Responsibility] = {}
    elided, group = "", -1
    for item in assignments:
        if item.group != group:
            elided, group = "", item.group
        if item.verb_class == "lead":
            role, basis = Role.LEAD, item.label or "牵头"
        elif item.verb_class == "support":
            role, basis = Role.SUPPORT, item.label or "配合"
        elif id(item) in first_listed and not explicit_lead:
            role, basis = Role.LEAD, f"rule:{rule}" if rule else PRESUMED_BASIS
        else:
            role, basis = Role.CO, "listed"
        canonical, level = departments.canonical_name(item.name, locality, elided)
        elided = departments.place_prefix(item.name) or elided
        result.setdefault(canonical, Responsibility(item.name, canonical, role, basis, level, item.includes))
    return tuple(result.values())


def _table_tasks(table: SourceTable, state: _Responsibilities) -> list[Task]:
    """One task per row of a task table, roles from the column headers (basis 「table:牵头单位」); a
    「责任单位」 column's first unit leads by the rule its header or the document states, if any."""
    rows = task_rows(table)
    header_rule = next((match for row in rows for _, _, header in row.units
                        if (match := LEAD_FIRST_RULE.search(matching_copy(header)))), None)
    rule = header_rule.group("rule") if header_rule else state.lead_rule
    tasks = []
    for row in rows:
        assignments = tuple(Assignment(name, (), role, 0, f"table:{header}") for name, role, header in row.units)
        marker = "；".join(f"{header}：{name}" for name, _, header in row.units)
        tasks.append(Task(row.text, marker, _roles(assignments, rule, state.locality), "table", row.deadline))
    return tasks


_NOTE = re.compile(r"(?:^|\n)\s*(?:注|备注|说明)\s*(?:\d\s*)?[:：.、]?[^\n]{0,40}?$")


def _noted_rule(drafts: list[_Draft]) -> tuple[str, bool]:
    """A lead rule the document states in a note (「注：各项任务排在第一位的为牵头单位」), wherever the note
    stands (often under the annex table, after the measures it governs): it holds for the whole document."""
    for draft in drafts:
        for original, copy in zip(draft.originals, draft.copies):
            for match in LEAD_FIRST_RULE.finditer(copy):
                if _NOTE.search(copy[:match.start()]):
                    return original[match.start("rule"):match.end("rule")], bool(match.group("scope"))
    return "", False


def _inherited(marker: Marker, draft: _Draft, locality: departments.Locality) -> tuple[Responsibility, ...]:
    responsibilities = []
    for item in marker.inherited:
        canonical, level = departments.canonical_name(item.name, locality)
        basis = f"inherited:{draft.number or draft.path[-1]} 以下均需…落实，不再列出"
        responsibilities.append(Responsibility(item.name, canonical, Role.INHERITED, basis, level, item.includes))
    return tuple(responsibilities)
