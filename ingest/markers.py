"""Responsibility markers: where a text names the units that carry out a task, and in which role.

A small grammar, not a list of examples. A marker is a run of *segments* separated by ， ； (or a
label's colon), each segment being

    [label:] units [verb phrase]        units  = unit (、|和|及 unit)* [等…]
                                        unit   = a name shaped like an institution (departments.py)

with labels (牵头单位： 责任单位： 配合单位： 协办单位： 主责单位： 责任处室： 完成时限： …) and verb
phrases (牵头, 负责, 按职责分工负责, 分别负责, 配合, 参与, 协助, 指导推动 …) giving each unit's role
class. Forms where markers stand:

    paren     （A、B按职责分工负责） （A牵头，B、C配合） （牵头单位：A；责任单位：B） 〔责任单位：A〕
              closing a sentence group (after 。；, or before 。；/the end of a paragraph)
    line      labelled lines after a task:  牵头单位：A  /  责任单位：B、C  /  完成时限：2022年2月底前
    sentence  running text: 由A牵头，会同B、C…  /  A牵头，B、C配合
    duty      a paragraph opening with a unit and a colon:  区商务委：负责…

Rules a marker may carry: 「列第一位者为牵头单位，下同」 (first listed leads, here and onwards;
「两省市列首位的为牵头单位」 per jurisdiction) and 「以下均需A落实，不再列出」 (inherited units).
A parenthesis is a marker only when every segment parses and every name is shaped like a unit,
so 「（以下简称…）」「（2023—2025年）」「（含…）」 stay text. Parsing runs on the matching copy and
returns spans, so names are cut from the original text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .departments import GENERIC_UNITS, looks_like_body, looks_like_unit, split_distributive

# Role classes a verb or label gives: "lead" (stated lead), "listed" (responsible; the first listed is
# the presumed or ruled lead unless a lead is stated), "support".
_LEAD, _LISTED, _SUPPORT = "lead", "listed", "support"
_SUPPORT_WORDS = ("配合", "参与", "协助", "协办", "支持", "协同")
# A verb phrase closing a segment: optional manner words, a core verb, optional object words.
_MANNER = r"(?:按照?|根据|依据|依照|结合|各自|职责|职能|分工|分别|共同|具体|统筹|切实|积极|认真|做好|负责)*"
_CORE = (r"牵头负责|负责牵头|牵头抓总|牵头|主责|负总责|负责落实|负责实施|负责推进|负责|落实|组织实施|"
         r"推进实施|具体实施|实施|推进|推动|指导推动|督促指导|指导|承担|抓好|配合|参与|协助|协办|支持|协同")
_VERB = re.compile(rf"(?P<verb>{_MANNER}(?:{_CORE})(?:落实|负责|推进|实施|推动|完成)?(?:相关工作|有关工作|工作)?)$")
# 「牵头单位：」 「责任部门:」 「配合单位：」 「责任处室：」 …
LABEL = re.compile(r"(?P<label>牵头|主责|主办|责任|负责|配合|协办|参与|协助|支持|实施|承办|主管)"
                   r"(?:单位|部门|处室|科室|机构|领导)\s*[:：]")
DEADLINE_LABEL = re.compile(r"(?:完成|办结)?(?:时限|时间节点|时间|期限)\s*[:：]")
_OTHER_LABEL = re.compile(r"(?:适用范围|备注|说明)\s*[:：]")
_LABEL_CLASS = {"牵头": _LEAD, "主责": _LEAD, "主办": _LEAD, "配合": _SUPPORT, "协办": _SUPPORT,
                "参与": _SUPPORT, "协助": _SUPPORT, "支持": _SUPPORT}
LEAD_FIRST_RULE = re.compile(r"(?P<rule>(?P<scope>两省市?|各省市?|双方|分别)?(?:均以|均|以)?(?:列|排)(?:在)?"
                             r"(?:第一位|首位|第1位|前位)(?:者|的|的部门|的单位)?(?:为|是)牵头(?:单位|部门)?)"
                             r"(?P<onwards>\s*[,;]?\s*下同)?")
INHERIT_RULE = re.compile(r"以下均需(?P<units>.+?)(?:负责)?落实\s*,?\s*不再列出")
_LIST_SEPARATOR = re.compile(r"、|,|以及|(?<=[局委部厅办署院府会室处])(?:和|及)|及(?=各)|和(?=各)")
_TRAILING_ETC = re.compile(r"\s*等(?:市级|省级|区级|县级|各级)?(?:有关|相关|其他)?(?:部门和单位|部门|单位|机构)?$")
_INCLUDES = re.compile(r"[〈(]含(?P<what>[^〉)]+)[〉)]")
_OPEN, _CLOSE = "(〔【[", ")〕】]"
_BEFORE = "。;!?"
_AFTER = "。;!?"
_SENTENCE_END = re.compile(r"[。;!?\n]")
# In running text: 「由A、B牵头(负责)…」 anywhere, 「A、B牵头…」「A负责…」「A对…负总责」 opening a sentence
# or clause, then optionally 「会同/联合C、D…」 (support) or 「，E按职责承担/配合…」.
_SENTENCE_VERB = r"牵头负责|负责牵头|牵头|负总责|对[^,;。]{1,40}?负总责|共同负责|分别负责|负责|共同|(?:按照?(?:各自)?职责)?分别"
_BY = re.compile(rf"由(?P<units>[^,;。:()由]{{2,80}}?)(?P<verb>{_SENTENCE_VERB})")
_SUBJECT = re.compile(r"(?:^|(?<=[。;,\n]))[ \t]*(?P<units>[^,;。:()由对\n]{2,60}?)"
                      r"(?P<verb>牵头负责|负责牵头|牵头|负总责|对[^,;。]{1,40}?负总责|共同负责|分别负责|负责|(?:要|将)?会同(?!意)|(?:要|将)联合)")
_WITH = re.compile(r"\s*,?\s*(?:会同|联合|协调|组织|商|指导)(?P<units>[^,;。:()]{2,80}?)"
                   r"(?=等(?:有关|相关)?(?:部门|单位)|共同|,|;|。|开展|做好|推进|建立|制定|研究|落实|完善|"
                   r"组织|实施|加强|加快|推动|负责|出台|编制|抓好|进行)")
_THEN = re.compile(r"[^,;。]*?,\s*(?P<units>[^,;。:()]{2,40}?)(?:按照?(?:各自)?职责|按职能)?"
                   r"(?P<verb>承担|配合|参与|协助|负责)")
_LEAD_THEN_SUPPORT = re.compile(r"(?:^|(?<=[。;,]))\s*(?P<lead>[^,;。:()由]{2,40}?)牵头\s*,\s*"
                                r"(?P<units>[^,;。:()]{2,80}?)(?P<verb>配合|参与|协助)")


# 「区商务委：负责…」: a paragraph opening with a unit, a colon and a duty.
_DUTY = re.compile(r"\s*(?P<unit>[^:,;。()\s]{2,25})\s*:\s*(?=(?:负责|牵头|承担|配合|协助|会同|组织|督促|指导|做好|加强|"
                   r"依法|严厉|开展|落实|抓好|统筹|加大|强化|主动|积极|按照|严格|全面|会同))")


@dataclass(frozen=True)
class Assignment:
    name: str  # as printed (original script), 等 and includes removed; a distributive name expanded
    includes: tuple[str, ...]
    verb_class: str  # lead | listed | support
    group: int = 0  # jurisdiction group: 「…；四川省能源局、…」 lists after a ； start a new group
    label: str = ""  # the label or verb that gave the class, e.g. 牵头单位 / 牵头


@dataclass(frozen=True)
class Marker:
    start: int
    end: int
    text: str  # the marker as printed
    assignments: tuple[Assignment, ...]
    lead_rule: str = ""  # 「列第一位者为牵头单位」 as printed, when this marker states it
    rule_onwards: bool = False  # the rule applies to later markers too (「下同」)
    inherited: tuple[Assignment, ...] = ()  # 「以下均需…落实，不再列出」
    kind: str = "paren"  # paren | labelled | line | sentence | duty
    deadline: str = ""  # 「完成时限：2022年4月」 as printed
    rule_per_group: bool = False  # 「两省市列首位的为牵头单位」: the first of each group leads
    task_start: int = -1  # sentence and duty markers: where the task they assign starts (-1: the text
    task_end: int = -1  # since the previous marker) and ends (-1: the marker's start)


def find_markers(original: str, copy: str) -> list[Marker]:
    """All responsibility markers of a text, in order. `copy` is its matching copy (same length)."""
    found = [*_paren_markers(original, copy), *_line_markers(original, copy), *_duty_markers(original, copy)]
    taken = [(marker.start, marker.end) for marker in found] + _parentheses(copy)  # no sentence marker in an aside
    found += [marker for marker in _sentence_markers(original, copy)
              if not any(start < marker.end and marker.start < end for start, end in taken)]
    found.sort(key=lambda marker: marker.start)
    result: list[Marker] = []
    for marker in found:
        if not result or marker.start >= result[-1].end:
            result.append(marker)
    return result


# --- parenthesised markers -------------------------------------------------------------------------

def _paren_markers(original: str, copy: str) -> list[Marker]:
    markers = []
    for start, end in _parentheses(copy):
        before, after = _neighbour(copy, start - 1, -1), _neighbour(copy, end, 1)
        if before and before not in _BEFORE and after and after not in _AFTER:
            continue
        if marker := _parse_parenthesis(original, copy, start, end):
            markers.append(marker)
    return markers


def _neighbour(text: str, position: int, step: int) -> str:
    """The first non-space character from `position` on in direction `step` ("" at either end).
    (Slicing and stripping the text instead made a clause with thousands of markers quadratic.)"""
    while 0 <= position < len(text) and text[position].isspace():
        position += step
    return text[position] if 0 <= position < len(text) else ""


def _parentheses(copy: str) -> list[tuple[int, int]]:
    """Spans of the outermost balanced ( ) 〔 〕 【 】 groups; 〈 〉 and inner brackets nest inside."""
    spans, depth, start, closing = [], 0, 0, ""
    for position, char in enumerate(copy):
        if depth == 0 and char in _OPEN:
            start, closing, depth = position, _CLOSE[_OPEN.index(char)], 1
        elif depth and char == _OPEN[_CLOSE.index(closing)]:
            depth += 1
        elif depth and char == closing:
            depth -= 1
            if depth == 0:
                spans.append((start, position + 1))
    return spans


def _parse_parenthesis(original: str, copy: str, start: int, end: int) -> Marker | None:
    parsed = parse_segments(original, copy, start + 1, end - 1)
    if parsed is None:
        return None
    kind = "labelled" if parsed.labelled else "paren"
    return Marker(start, end, original[start:end], parsed.assignments, parsed.lead_rule, parsed.onwards,
                  parsed.inherited, kind, parsed.deadline, parsed.per_group)


# --- the segment grammar ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Segments:
    assignments: tuple[Assignment, ...]
    inherited: tuple[Assignment, ...]
    lead_rule: str
    onwards: bool
    per_group: bool
    deadline: str
    labelled: bool


def parse_segments(original: str, copy: str, start: int, end: int) -> Segments | None:
    """Parse `copy[start:end]` as a run of segments; None when any part is not a unit list or a rule."""
    lead_rule, onwards, per_group, deadline, inherited = "", False, False, "", ()
    cuts: list[tuple[int, int]] = []
    content = copy[start:end]
    if rule := LEAD_FIRST_RULE.search(content):
        lead_rule = original[start + rule.start("rule"):start + rule.end("rule")]
        onwards, per_group = bool(rule.group("onwards")), bool(rule.group("scope"))
        cuts.append((start + rule.start(), start + rule.end()))
    if inherit := INHERIT_RULE.search(content):
        inherited = tuple(_units(original, copy, start + inherit.start("units"), start + inherit.end("units"),
                                 _LISTED, 0, ""))
        cuts.append((start + inherit.start(), start + inherit.end()))
    pieces = _segments(copy, start, end, cuts)
    assignments: list[Assignment] = []
    label_class, label, labelled, group, pending, remark = "", "", False, 0, None, False
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
            label_class = _LABEL_CLASS.get(match.group("label"), _LISTED)
            lead_in += match.end()
        segment_end = piece_start + len(text.rstrip())
        verb = _VERB.search(copy, lead_in, segment_end) if lead_in < segment_end else None
        if verb and verb.start() > lead_in:
            verb_class = _verb_class(verb.group("verb"))
            if pending is not None:  # 「A，B配合」: a verbless segment before joins this one
                lead_in = pending
                pending = None
            units = _units(original, copy, lead_in, verb.start(), verb_class, group, verb.group("verb"))
        elif label_class and lead_in < segment_end:
            units = _units(original, copy, lead_in, segment_end, label_class, group, label)
        elif not label_class and lead_in < segment_end:
            if pending is None:
                pending = lead_in
            continue
        else:
            continue
        if not units:
            return None
        assignments += units
        if separator == ";" and label_class:
            group += 1
    if pending is not None:
        return None  # a trailing segment without a verb or label: not an assignment list
    if not assignments and not inherited:
        return None
    if not all(looks_like_body(item.name) for item in (*assignments, *inherited)):
        return None
    return Segments(tuple(assignments), inherited, lead_rule, onwards, per_group, deadline, labelled)


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
        depth += char in "〈(〔【"
        depth -= char in "〉)〕】"
        if depth == 0 and (char in ",;。" or char == "、" and _VERB.search(copy, piece_start, position)):
            # 「A牵头、B配合」: a 、 after a verb phrase separates segments, not units
            pieces.append((piece_start, position, ";" if char == ";" else ","))
            piece_start = position + 1
        elif depth == 0 and position > piece_start and (LABEL.match(copy, position) or DEADLINE_LABEL.match(
                copy, position) and not DEADLINE_LABEL.match(copy, position - 2)) and copy[position - 1] not in "、":
            pieces.append((piece_start, position, ";"))
            piece_start = position
        position += 1
    if piece_start < end:
        pieces.append((piece_start, end, ""))
    return pieces


def _verb_class(verb: str) -> str:
    if "牵头" in verb or "主责" in verb or "负总责" in verb:
        return _LEAD
    if any(word in verb for word in _SUPPORT_WORDS) or verb.endswith("指导") and "推动" not in verb:
        return _SUPPORT
    return _LISTED


def _units(original: str, copy: str, start: int, end: int, verb_class: str, group: int,
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


def _unit(original: str, copy: str, start: int, end: int, verb_class: str, group: int,
          label: str) -> list[Assignment]:
    name, includes = original[start:end], ()
    if match := _INCLUDES.search(copy, start, end):
        includes = tuple(part for part in re.split("[、,，]", original[match.start("what"):match.end("what")]) if part)
        name = original[start:match.start()] + original[match.end():end]
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


# --- labelled lines after a task -------------------------------------------------------------------

_LINE_START = re.compile(r"(?:^|(?<=[。;]))[ \t]*(?=(?:牵头|主责|主办|责任|负责|配合|协办|参与|协助|支持|实施|承办)"
                         r"(?:单位|部门|处室|科室|机构)\s*:)", re.MULTILINE)


def _line_markers(original: str, copy: str) -> list[Marker]:
    """Runs of 「牵头单位：A」「责任单位：B」「完成时限：…」 lines (or sentences) after a task."""
    markers = []
    position = 0
    for match in _LINE_START.finditer(copy):
        if match.start() < position:
            continue
        end = _line_run_end(copy, match.end())
        parsed = parse_segments(original, copy, match.end(), end)
        if parsed is None or not parsed.assignments:
            continue
        markers.append(Marker(match.end(), end, original[match.end():end].strip(), parsed.assignments,
                              parsed.lead_rule, parsed.onwards, parsed.inherited, "line", parsed.deadline,
                              parsed.per_group))
        position = end
    return markers


_DEADLINE_VALUE = re.compile(r"\s*(?:(?:\d{4}年)?(?:\d{1,2}月)?(?:\d{1,2}日)?(?:底|末|中旬|上旬|下旬|年底|年内)?"
                             r"(?:前|之前|以前)?|长期(?:坚持)?|持续推进|持续开展|常态化推进)")


def _line_run_end(copy: str, start: int) -> int:
    """The end of a run of label lines: the first line that starts with no label (a wrapped unit list
    continues a line when the line before ends with 、 or has no closing punctuation). In text that
    lost its line breaks a 「完成时限：」 value ends with its date phrase."""
    if (deadline := DEADLINE_LABEL.search(copy, start, copy.find("\n", start) if "\n" in copy[start:] else len(copy))) \
            and (value := _DEADLINE_VALUE.match(copy, deadline.end())) and value.end() > deadline.end() \
            and value.end() < len(copy) and copy[value.end()] not in "\n。;":
        return value.end()
    position = start
    while True:
        newline = copy.find("\n", position)
        if newline == -1:
            return len(copy.rstrip())
        line = copy[position:newline].rstrip()
        following = copy[newline + 1:copy.find("\n", newline + 1) if copy.find("\n", newline + 1) != -1 else len(copy)]
        continues = LABEL.match(following.lstrip()) or DEADLINE_LABEL.match(following.lstrip()) or \
            (line.endswith(("、", ",")) and not re.search(r"[。;]$", line))
        if not continues:
            return newline
        position = newline + 1


# --- assignments in running text -------------------------------------------------------------------

def _sentence_markers(original: str, copy: str) -> list[Marker]:
    markers = []
    for match in [*_BY.finditer(copy), *_SUBJECT.finditer(copy)]:
        verb = match.group("verb")
        verb_class = _LEAD if re.search("牵头|负总责|会同|联合", verb) else _LISTED
        lead = _units(original, copy, match.start("units"), match.end("units"), verb_class, 0,
                      "牵头" if verb_class == _LEAD else "")
        if not lead or not all(_sentence_unit(item.name) for item in lead):
            continue
        end, others = match.end(), []
        if verb.endswith(("会同", "联合")):  # 「A要会同B、C…」: the partners follow the verb at once
            tail = _WITH.match(copy, match.end() - 2)
        else:
            tail = _WITH.match(copy, match.end())
        if tail:
            candidates = _units(original, copy, tail.start("units"), tail.end("units"), _SUPPORT, 0, "会同")
            if candidates and all(_sentence_unit(item.name, generic=True) for item in candidates):
                others, end = candidates, tail.end("units")
        elif verb_class == _LEAD and (then := _THEN.match(copy, match.end())) and then.end() - match.end() < 80:
            # 「A牵头…，B按职责承担…」; but 「A负责X，B负责Y」 are two assignments
            then_class = _SUPPORT if then.group("verb") in _SUPPORT_WORDS else _LISTED
            candidates = _units(original, copy, then.start("units"), then.end("units"), then_class, 0,
                                then.group("verb") if then_class == _SUPPORT else "")
            if candidates and all(_sentence_unit(item.name, generic=True) for item in candidates):
                others, end = candidates, then.end()
        markers.append(_sentence_marker(original, copy, match.start("units"), end, (*lead, *others)))
    for match in _LEAD_THEN_SUPPORT.finditer(copy):
        lead = _units(original, copy, match.start("lead"), match.end("lead"), _LEAD, 0, "牵头")
        support = _units(original, copy, match.start("units"), match.end("units"), _SUPPORT, 0, match.group("verb"))
        if lead and support and all(_sentence_unit(item.name) for item in (*lead, *support)):
            markers.append(_sentence_marker(original, copy, match.start("lead"), match.end(), (*lead, *support)))
    markers.sort(key=lambda marker: (marker.start, -marker.end))
    return [marker for index, marker in enumerate(markers)
            if not any(other.start <= marker.start and marker.end <= other.end for other in markers[:index])]


def _sentence_unit(name: str, generic: bool = False) -> bool:
    """Units in running text must be shaped like units; 「地方」「各地」 and alike only as partners."""
    return looks_like_unit(name) and (generic or name not in _VAGUE)


_VAGUE = frozenset({"地方", "各地", "各地区", "有关方面"})


def _sentence_marker(original: str, copy: str, start: int, end: int, assignments: tuple[Assignment, ...]) -> Marker:
    sentence_start = max((m.end() for m in _SENTENCE_END.finditer(copy, 0, start)), default=0)
    sentence_end = next((m.end() for m in _SENTENCE_END.finditer(copy, end)), len(copy))
    return Marker(start, end, original[start:end], assignments, kind="sentence",
                  task_start=sentence_start, task_end=sentence_end)


def _duty_markers(original: str, copy: str) -> list[Marker]:
    """「区商务委：负责…」 paragraphs: the unit before the colon is responsible for what follows."""
    markers = []
    for line in re.finditer(r"^.+$", copy, re.MULTILINE):
        match = _DUTY.match(copy, line.start(), line.end())
        if not match or LABEL.match(copy, line.start() + len(match.group(0)) - len(match.group(0).lstrip())):
            continue
        units = _units(original, copy, match.start("unit"), match.end("unit"), _LISTED, 0, "")
        if not units or not all(looks_like_unit(item.name) for item in units):
            continue
        duty = copy[match.end():line.end()]
        verb_class = _LEAD if duty.startswith("牵头") else _LISTED
        units = [Assignment(item.name, item.includes, verb_class, 0, "") for item in units]
        markers.append(Marker(match.start("unit"), match.end(), original[match.start("unit"):match.end()],
                              tuple(units), kind="duty", task_start=match.end(), task_end=line.end()))
    return markers
