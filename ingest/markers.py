"""Responsibility markers: the parenthesised unit lists that close a measure or a sentence group.

    （市发改委、市生态环境局按职责分工落实）          all listed, first presumed lead
    （农业农村部、工业和信息化部牵头负责）            explicit leads
    （生态环境部牵头，国家发展改革委、…参与）          lead + support
    （人力资源社会保障部、财政部负责。列第一位者为牵头单位，下同）   a rule for this and later markers
    （…落实，以下均需各区人民政府〈含开发区…〉落实，不再列出）       inherited by later measures
    （负责部门：商务部、海关总署，适用范围：福建自贸试验区）         a labelled list

Parsing runs on the matching copy and returns spans, so names are cut from the original text.
A parenthesis is a marker only where a marker can stand (after 。；, or before 。；/the end) and
when every name it lists looks like a unit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .departments import looks_like_body

# Verb phrases that close an assignment, with the role class they give.
VERB_CLASSES: tuple[tuple[str, str], ...] = (
    ("牵头负责", "lead"), ("负责牵头", "lead"), ("牵头", "lead"),
    ("按职责分工负责落实", "listed"), ("负责按职责分工落实", "listed"), ("按职责分工落实", "listed"),
    ("按职责分工负责", "listed"), ("分别负责", "listed"), ("共同负责", "listed"), ("负责落实", "listed"),
    ("负责", "listed"), ("落实", "listed"),
    ("按职责配合", "support"), ("配合", "support"), ("参与", "support"), ("协助", "support"), ("指导", "support"),
)
_VERB = re.compile("(?P<verb>" + "|".join(re.escape(verb) for verb, _ in VERB_CLASSES) + r")$")
VERB_CLASS = dict(VERB_CLASSES)
# Rules a marker can carry besides its assignment.
LEAD_FIRST_RULE = re.compile(r"[,。;]?\s*(?P<rule>(?:列|排)(?:在)?第一位(?:者|的部门|的单位)?为牵头(?:单位|部门))"
                             r"(?P<onwards>\s*,\s*下同)?")
# 「（负责部门：商务部、海关总署，适用范围：福建自贸试验区）」: a labelled list, first listed presumed lead.
LABELLED_LIST = re.compile(r"^\s*(?:负责|责任|牵头)(?:部门|单位)\s*:\s*(?P<units>[^,;。]+)")
INHERIT_RULE = re.compile(r"[,。;]?\s*以下均需(?P<units>.+?)(?:负责)?落实\s*,?\s*不再列出")
_LIST_SEPARATOR = re.compile(r"、|,|;|等(?:有关)?(?:部门和单位|部门|单位)?和|(?<=[局委部厅办署])和(?=各)|及(?=各)")
_TRAILING_ETC = re.compile(r"等(?:有关)?(?:部门和单位|部门|单位)?$")
_INCLUDES = re.compile(r"[〈(]含(?P<what>[^〉)]+)[〉)]")
_BEFORE = "。;!?"
_AFTER = "。;!?"


@dataclass(frozen=True)
class Assignment:
    name: str  # as printed (original script), 等 and includes removed
    includes: tuple[str, ...]
    verb_class: str  # lead | listed | support


@dataclass(frozen=True)
class Marker:
    start: int  # span of the whole parenthesis in the text
    end: int
    text: str  # as printed
    assignments: tuple[Assignment, ...]
    lead_rule: str  # 「列第一位者为牵头单位」 as printed, or ""
    rule_onwards: bool  # the rule says 下同
    inherited: tuple[Assignment, ...]


def find_markers(original: str, copy: str) -> list[Marker]:
    """All responsibility markers of a text, in order. `copy` is its matching copy (same length)."""
    markers = []
    for start, end in _parentheses(copy):
        before, after = _neighbour(copy, start - 1, -1), _neighbour(copy, end, 1)
        if before and before not in _BEFORE and after and after not in _AFTER:
            continue
        marker = _parse_marker(original, copy, start, end)
        if marker is not None:
            markers.append(marker)
    return markers


def _neighbour(text: str, position: int, step: int) -> str:
    """The first non-space character from `position` on in direction `step` ("" at either end).
    (Slicing and stripping the text instead made a clause with thousands of markers quadratic.)"""
    while 0 <= position < len(text) and text[position].isspace():
        position += step
    return text[position] if 0 <= position < len(text) else ""


def _parentheses(copy: str) -> list[tuple[int, int]]:
    """Spans of the outermost balanced ( ) groups; 〈 〉 and inner ( ) nest inside."""
    spans, depth, start = [], 0, 0
    for position, char in enumerate(copy):
        if char == "(":
            if depth == 0:
                start = position
            depth += 1
        elif char == ")" and depth:
            depth -= 1
            if depth == 0:
                spans.append((start, position + 1))
    return spans


def _parse_marker(original: str, copy: str, start: int, end: int) -> Marker | None:
    inner_start, inner_end = start + 1, end - 1
    content = copy[inner_start:inner_end]
    lead_rule, onwards, inherited = "", False, ()
    cuts: list[tuple[int, int]] = []
    if rule := LEAD_FIRST_RULE.search(content):
        lead_rule = original[inner_start + rule.start("rule"):inner_start + rule.end("rule")]
        onwards = bool(rule.group("onwards"))
        cuts.append(rule.span())
    if inherit := INHERIT_RULE.search(content):
        units = (inner_start + inherit.start("units"), inner_start + inherit.end("units"))
        inherited = tuple(_split_units(original, copy, *units, "listed"))
        cuts.append(inherit.span())
    assignment_end = inner_start + min([span[0] for span in cuts], default=len(content))
    if labelled := LABELLED_LIST.match(content):
        units = (inner_start + labelled.start("units"), inner_start + labelled.end("units"))
        assignments = _split_units(original, copy, *units, "listed")
    else:
        assignments = _parse_assignments(original, copy, inner_start, assignment_end)
    if not assignments and not inherited:
        return None
    if not all(looks_like_body(item.name) for item in (*assignments, *inherited)):
        return None
    return Marker(start, end, original[start:end], tuple(assignments), lead_rule, onwards, inherited)


def _parse_assignments(original: str, copy: str, start: int, end: int) -> list[Assignment]:
    """Split 「A、B牵头，C、D配合」 into segments that each end with a verb; verbless segments join the next."""
    assignments: list[Assignment] = []
    pending_start = start
    for separator in [*re.finditer(r"[,。;]", copy[start:end]), None]:
        segment_end = start + separator.start() if separator else end
        segment = copy[pending_start:segment_end].rstrip()
        verb = _VERB.search(segment)
        if verb:
            units_end = pending_start + verb.start()
            assignments += _split_units(original, copy, pending_start, units_end, VERB_CLASS[verb.group("verb")])
            pending_start = start + separator.end() if separator else end
        elif separator is None:
            return []  # a trailing segment without a verb: not an assignment list
    return assignments


def _split_units(original: str, copy: str, start: int, end: int, verb_class: str) -> list[Assignment]:
    if trailing := _TRAILING_ETC.search(copy, start, end):
        end = trailing.start()
    units, position = [], start
    for piece_start, piece_end in [*_separators(copy, start, end), (end, end)]:
        units += _unit(original, copy, position, piece_start, verb_class)
        position = piece_end
    return units


def _unit(original: str, copy: str, start: int, end: int, verb_class: str) -> list[Assignment]:
    name, includes = original[start:end], ()
    if match := _INCLUDES.search(copy, start, end):
        includes = tuple(part for part in re.split("[、,，]", original[match.start("what"):match.end("what")]) if part)
        name = original[start:match.start()] + original[match.end():end]
    name = re.sub(r"^(由|请)", "", re.sub(r"等$", "", name.strip(" \u3000")))
    return [Assignment(name, includes, verb_class)] if name else []


def _separators(copy: str, start: int, end: int) -> list[tuple[int, int]]:
    """Separator spans between unit names, skipping any inside 〈 〉 or ( )."""
    spans, depth = [], 0
    text = copy[start:end]
    nested = [0] * (len(text) + 1)
    for index, char in enumerate(text):
        depth += char in "〈("
        depth -= char in "〉)"
        nested[index] = depth
    for match in _LIST_SEPARATOR.finditer(text):
        if nested[match.start()] == 0:
            spans.append((start + match.start(), start + match.end()))
    return spans
