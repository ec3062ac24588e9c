"""The segment grammar of responsibility markers: who is named, in which role.

    marker   = segment ((，|；) segment)*
    segment  = [label:] units [verb phrase]          units = unit ((、|和|及) unit)* [等…]
    label    = 牵头单位 | 责任单位 | 配合单位 | 协办单位 | 主责单位 | 责任处室 | 完成时限 | 适用范围 …
    verb     = [manner words] core [object]           core  = 牵头 | 负责 | 落实 | 组织实施 | 配合 | 参与 …

A unit is any name shaped like an institution (`departments.looks_like_unit`). Labels and verbs give
each unit a role class: "lead" (a stated lead), "listed" (responsible: the first listed leads by a
document rule or by convention unless a lead is stated) or "support". `ingest.markers` finds where
markers stand; this module reads what they say. All parsing runs on the matching copy and returns
spans, so names are cut from the original text.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from .departments import looks_like_body, names_a_body, split_distributive

# Role classes a verb or label gives: "lead" (stated lead), "listed" (responsible; the first listed is
# the presumed or ruled lead unless a lead is stated), "support".
LEAD, LISTED, SUPPORT = "lead", "listed", "support"
SUPPORT_WORDS = ("配合", "参与", "协助", "协办", "支持", "协同")
# A verb phrase closing a segment: optional manner words, a core verb, optional object words.
_MANNER = r"(?:按照?|根据|依据|依照?|结合|各自|职责|职能|分工|分别|共同|具体|统筹|切实|积极|认真|做好|负责)*"
_CORE = (r"牵头负责|负责牵头|牵头抓总|牵头|主责|负总责|负责落实|负责实施|负责推进|负责|落实|组织实施|统筹推进|统筹协调|统筹|"
         r"推进实施|具体实施|实施|推进|推动|指导推动|督促指导|指导|承担|抓好|配合|参与|协助|协办|支持|协同")
_VERB = re.compile(rf"(?P<verb>{_MANNER}(?:{_CORE})(?:落实|负责|推进|实施|推动|完成)?(?:相关工作|有关工作|工作)?)$")
# 「牵头单位：」 「责任部门:」 「配合单位：」 「责任处室：」 …
_LABEL_PREFIX = re.compile(r"(?:主要|具体|其他|共同)$")
# 「牵头单位为A」「主要责任单位：」「牵头部门（单位）：」「责任主体：」 too
LABEL = re.compile(r"【?(?:主要|具体|其他|共同)?(?P<label>牵头|主责|主办|责任|负责|配合|协办|参与|协助|支持|实施|承办|主管)"
                   r"(?:单位|部门|处室|科室|机构|领导|主体)(?:\((?:单位|部门)\))?\s*(?:[:：]|为(?=\S)|】)")
DEADLINE_LABEL = re.compile(r"(?:完成|办结)?(?:时限|时间节点|时间|期限)\s*[:：]")
_OTHER_LABEL = re.compile(r"(?:适用范围|备注|说明)\s*[:：]")
_LABEL_CLASS = {"牵头": LEAD, "主责": LEAD, "主办": LEAD, "配合": SUPPORT, "协办": SUPPORT,
                "参与": SUPPORT, "协助": SUPPORT, "支持": SUPPORT}
# 「列第一位者为牵头单位」「排名第一的为牵头单位」「第一个单位为牵头单位」「列首位者牵头」「第一责任单位为牵头单位」…
LEAD_FIRST_RULE = re.compile(r"(?P<rule>(?P<scope>两省市?|各省市?|双方|分别)?(?:均以|均|以)?"
                             r"(?:(?:列|排)(?:在|于|名)?(?:第一位?|第1位?|首位|前位|最前)|第一个|首个|第一责任)"
                             r"(?:者|的)?(?:部门|单位)?(?:为|是|负责)?牵头(?:单位|部门)?)"
                             r"(?P<onwards>\s*[,;]?\s*下同)?")
INHERIT_RULE = re.compile(r"以下均需(?P<units>.+?)(?:负责)?落实\s*,?\s*不再列出")
# 、 , 以及; 和/及 after an institutional ending (not 「党委和政府」, one body); spaces between names as a PDF
# prints them (「市发改委 市财政局」).
_LIST_SEPARATOR = re.compile(r"、|,|以及|(?<=[局委部厅办署院府会室处])(?:和|及)(?!(?:人民)?政府)|及(?=各)|和(?=各)|"
                             r"(?<=[局委部厅办署院府会室处联行关司心])[ \u3000]+(?=[^\s等])")
_TRAILING_ETC = re.compile(r"\s*等(?:市级|省级|区级|县级|各级)?(?:有关|相关|其他)?(?:部门和单位|部门|单位|机构)?$")
_INCLUDES = re.compile(r"[〈(]含(?P<what>[^〉)]+)[〉)]")
# A role noted after a name in a list: 「市住建局（牵头）、市发改委」
ROLE_NOTE = re.compile(r"[〈(（](?P<role>牵头|主责|配合|协办|参与|协助|支持)(?:单位|部门)?[〉)）]\s*$")


@dataclass(frozen=True)
class Assignment:
    name: str  # as printed (original script), 等 and includes removed; a distributive name expanded
    includes: tuple[str, ...]
    verb_class: str  # lead | listed | support
    group: int = 0  # jurisdiction group: 「…；四川省能源局、…」 lists after a ； start a new group
    label: str = ""  # the label or verb that gave the class, e.g. 牵头单位 / 牵头


@dataclass(frozen=True)
class Segments:
    assignments: tuple[Assignment, ...]
    inherited: tuple[Assignment, ...]
    lead_rule: str
    onwards: bool
    per_group: bool
    deadline: str
    labelled: bool


def parse_segments(original: str, copy: str, start: int, end: int, bare: bool = False) -> Segments | None:
    """Parse `copy[start:end]` as a run of segments; None when any part is not a unit list or a rule.
    `bare`: a list of units with no verb or label is an assignment too (a parenthesis that stands as a
    sentence of its own after a measure: 「…。（市发展改革委、市财政局）」)."""
    lead_rule, onwards, per_group, deadline, inherited = "", False, False, "", ()
    cuts: list[tuple[int, int]] = []
    content = copy[start:end]
    if rule := LEAD_FIRST_RULE.search(content):
        lead_rule = original[start + rule.start("rule"):start + rule.end("rule")]
        onwards, per_group = bool(rule.group("onwards")), bool(rule.group("scope"))
        cuts.append(_bracketed(copy, start + rule.start(), start + rule.end(), end))
    if inherit := INHERIT_RULE.search(content):
        inherited = tuple(unit_list(original, copy, start + inherit.start("units"), start + inherit.end("units"),
                                 LISTED, 0, ""))
        cuts.append((start + inherit.start(), start + inherit.end()))
    pieces = _segments(copy, start, end, cuts)
    assignments: list[Assignment] = []
    label_class, label, labelled, group, pending, remark = "", "", False, 0, None, False
    pending_end = start
    for piece_start, piece_end, separator in pieces:
        text = copy[piece_start:piece_end]
        stripped = text.strip()
        if remark and not LABEL.match(stripped) and not DEADLINE_LABEL.match(stripped):
            continue  # 「适用范围：…，以下…」 runs to the next label
        remark = False
        if not stripped:
            if separator == ";" and assignments:
                group += 1
            continue
        if match := DEADLINE_LABEL.match(stripped):
            offset = piece_start + len(text) - len(text.lstrip()) + match.end()
            deadline = original[offset:piece_end].strip()
            labelled, label_class = True, ""
            continue
        if _OTHER_LABEL.match(stripped):
            labelled = remark = True
            continue
        lead_in = piece_start + len(text) - len(text.lstrip())
        if match := LABEL.match(stripped):
            label, labelled = match.group("label") + copy[lead_in + match.start() + len(match.group("label")):
                                                          lead_in + match.end()].rstrip(": "), True
            label_class = _LABEL_CLASS.get(match.group("label"), LISTED)
            lead_in += match.end()
        segment_end = piece_start + len(text.rstrip())
        verb = _VERB.search(copy, lead_in, segment_end) if lead_in < segment_end else None
        if verb and verb.start() > lead_in:
            verb_class = _verb_class(verb.group("verb"))
            if pending is not None:  # 「A，B配合」: a verbless segment before joins this one
                lead_in = pending
                pending = None
            units = _with_partners(original, copy, lead_in, verb.start(), group) or \
                unit_list(original, copy, lead_in, verb.start(), verb_class, group, verb.group("verb"))
        elif label_class and lead_in < segment_end:
            units = unit_list(original, copy, lead_in, segment_end, label_class, group, label)
        elif not label_class and lead_in < segment_end:
            if pending is None:
                pending = lead_in
            pending_end = segment_end
            continue
        else:
            continue
        if not units:
            return None
        assignments += units
        if separator == ";" and label_class:
            group += 1
    if pending is not None and bare and not assignments:
        assignments = unit_list(original, copy, pending, pending_end, LISTED, group, "")
        if not all(names_a_body(item.name) for item in assignments):
            return None
    elif pending is not None:
        return None  # a trailing segment without a verb or label: not an assignment list
    if not assignments and not inherited:
        return None
    if not all(looks_like_body(item.name) for item in (*assignments, *inherited)):
        return None
    return Segments(tuple(assignments), inherited, lead_rule, onwards, per_group, deadline, labelled)


def _with_partners(original: str, copy: str, start: int, end: int, group: int) -> list[Assignment]:
    """「A会同B负责」 inside a marker: A leads, B supports ([] when the segment holds no 会同); several units
    before 会同 (「A、B会同C负责」) are listed, the first leading by rule or convention."""
    at = copy.find("会同", start, end)
    if at == start:  # 「A牵头，会同B组织实施」: the segment after the lead's
        return unit_list(original, copy, at + 2, end, SUPPORT, group, "会同")
    if at < start:
        return []
    lead = unit_list(original, copy, start, at, LEAD, group, "会同")
    if len(lead) > 1:
        lead = [dataclasses.replace(item, verb_class=LISTED, label="") for item in lead]
    partners = unit_list(original, copy, at + 2, end, SUPPORT, group, "会同")
    return [*lead, *partners] if lead and partners else []


def _bracketed(copy: str, rule_start: int, rule_end: int, end: int) -> tuple[int, int]:
    """The span to cut for a rule: with the brackets around it when they hold nothing else
    (「责任单位：A、B（列第一位者为牵头单位，下同）」)."""
    before = copy[:rule_start].rstrip(" ,;")
    after = copy[rule_end:end].lstrip(" ,;。")
    if before.endswith(("(", "〔", "[")) and after.startswith((")", "〕", "]")):
        return len(before) - 1, end - len(after) + 1
    return rule_start, rule_end


def _segments(copy: str, start: int, end: int, cuts: list[tuple[int, int]]) -> list[tuple[int, int, str]]:
    """(start, end, separator after) of the pieces between ， ； 。 outside nested brackets and rules.
    A label inside a piece (「A牵头单位：B」 is rare, 「…；责任单位：」 common) starts a new piece too."""
    pieces, depth, piece_start = [], 0, start
    position = start
    while position < end:
        cut = next((cut_end for cut_start, cut_end in cuts if cut_start == position), None)
        if cut is not None:
            if piece_start < position:
                pieces.append((piece_start, position, ","))
            position = piece_start = cut
            continue
        char = copy[position]
        if depth == 0 and char == "【" and (label := LABEL.match(copy, position)):  # 「【牵头单位】A【配合单位】B」
            if piece_start < position:
                pieces.append((piece_start, position, ";"))
            piece_start, position = position, label.end()
            continue
        depth += char in "〈(〔【"
        depth -= char in "〉)〕】"
        if depth == 0 and (char in ",;。" or char == "、" and _VERB.search(copy, piece_start, position)):
            # 「A牵头、B配合」: a 、 after a verb phrase separates segments, not units
            pieces.append((piece_start, position, ";" if char == ";" else ","))
            piece_start = position + 1
        elif depth == 0 and position > piece_start and (LABEL.match(copy, position) and not _LABEL_PREFIX.search(
                copy, piece_start, position) or DEADLINE_LABEL.match(copy, position)
                and not DEADLINE_LABEL.match(copy, position - 2)) and copy[position - 1] not in "、":
            pieces.append((piece_start, position, ";"))
            piece_start = position
        position += 1
    if piece_start < end:
        pieces.append((piece_start, end, ""))
    return pieces


def _verb_class(verb: str) -> str:
    if "牵头" in verb or "主责" in verb or "负总责" in verb:
        return LEAD
    if any(word in verb for word in SUPPORT_WORDS) or verb.endswith("指导") and "推动" not in verb:
        return SUPPORT
    return LISTED


def unit_list(original: str, copy: str, start: int, end: int, verb_class: str, group: int,
           label: str) -> list[Assignment]:
    if trailing := _TRAILING_ETC.search(copy, start, end):
        end = trailing.start()
    units, position = [], start
    for piece_start, piece_end in [*_separators(copy, start, end), (end, end)]:
        units += _unit(original, copy, position, piece_start, verb_class, group, label)
        position = piece_end
    names = split_distributive([unit.name for unit in units])
    return [Assignment(name, unit.includes, unit.verb_class, unit.group, unit.label)
            for name, unit in zip(names, units)]


# A PDF's text layer puts raised or displaced Latin letters and digits of the sentence above on lines
# of their own, inside the unit list below it (「市经信局、\nＥＯＤ\n市发改委」): no unit name is a line of them.
_LAYOUT_DEBRIS = re.compile(r"^\s*[0-9A-Za-z０-９Ａ-Ｚａ-ｚ \u3000]+\n")


def _unit(original: str, copy: str, start: int, end: int, verb_class: str, group: int,
          label: str) -> list[Assignment]:
    if note := ROLE_NOTE.search(copy, start, end):
        verb_class, label, end = _LABEL_CLASS.get(note.group("role"), LISTED), note.group("role"), note.start()
    name, includes = original[start:end], ()
    if match := _INCLUDES.search(copy, start, end):
        includes = tuple(part for part in re.split("[、,，]", original[match.start("what"):match.end("what")]) if part)
        name = original[start:match.start()] + original[match.end():end]
    name = _LAYOUT_DEBRIS.sub("", name)
    name = re.sub(r"^(由|请|会同|以及|及|和)", "", re.sub(r"等$", "", re.sub(r"\s+", "", name)))
    return [Assignment(name, includes, verb_class, group, label)] if name else []


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
