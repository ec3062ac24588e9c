"""Where responsibility markers stand in a text; what they say is read by `ingest.segments`.

    paren     （A、B按职责分工负责） （A牵头，B、C配合） （牵头单位：A；责任单位：B） 〔责任单位：A〕
              closing a sentence group (after 。；, or before 。；/the end of a paragraph)
    line      labelled lines after a task:  牵头单位：A  /  责任单位：B、C  /  完成时限：2022年2月底前
    sentence  running text: 由A牵头，会同B、C…  /  A牵头，B、C配合  /  A对…负总责，B按职责承担…  /  A要会同B
              or a sentence of nothing but units and roles, closing a measure:  由A、B按职责分工负责。
    duty      a paragraph opening with a unit and a colon:  区商务委：负责…  /  区商务委职责：…  /  区商务委：
              alone on its line over the duty lines under it

A parenthesis is a marker only when every segment parses and every name is shaped like a unit, so
「（以下简称…）」「（2023—2025年）」「（含…）」 stay text; no sentence marker is read inside an aside.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from .departments import looks_like_unit, names_a_body
from .segments import (DEADLINE_LABEL, LABEL, LEAD, LISTED, SUPPORT, SUPPORT_WORDS, Assignment, parse_segments,
                       unit_list)

_OPEN, _CLOSE = "(〔【[", ")〕】]"
_BEFORE = "。;!?"
_AFTER = "。;!?"
_SENTENCE_END = re.compile(r"[。;!?\n]")
# In running text: 「由A、B牵头(负责)…」 anywhere, 「A、B牵头…」「A负责…」「A对…负总责」 opening a sentence
# or clause, then optionally 「会同/联合C、D…」 (support) or 「，E按职责承担/配合…」.
# 「牵头」 followed by a noun is part of a name or a role word: 医联体牵头医院, 牵头单位.
_NOT_A_NAME = r"(?!人|单位|部门|医院|学校|机构|企业|处室|科室)"
_SENTENCE_VERB = (rf"牵头负责|负责牵头|牵头{_NOT_A_NAME}|负总责|对[^,;。]{1,40}?负总责|共同负责|分别负责|"
                  r"(?:具体|主要|统一|全面)?负责(?!人|同志)|共同|会同(?!意)|"
                  r"(?:按照?(?:各自)?职责)?分别")
_MODAL = r"(?:要|将|应当?|须|必须|需要?)?(?:切实|认真|积极|主动)?"  # 「区商务局要牵头…」「A要切实履行牵头职责」
_NAMES = r"(?:[^,;。:()由]|\([^(),;。]{1,12}\))"  # unit names, with a short alias in brackets: 市发展改革委(市能源局)
_BY = re.compile(rf"由(?P<units>{_NAMES}{{2,80}}?){_MODAL}(?P<verb>{_SENTENCE_VERB})")
_SUBJECT = re.compile(r"(?:^|(?<=[。;,\n]))[ \t]*(?P<units>(?:[^,;。:()由对\n]|\([^(),;。\n]{1,12}\)){2,60}?)"
                      rf"{_MODAL}(?P<verb>牵头负责|负责牵头|牵头{_NOT_A_NAME}|负总责|对[^,;。]{{1,40}}?负总责|共同负责|分别负责|"
                      r"(?:具体|主要|统一|全面)?负责(?!人|同志)|会同(?!意)|联合(?!国)|(?:作为|为|是)牵头(?:单位|部门)|"
                      r"(?:履行|承担)牵头(?:职责|责任)|"
                      r"发挥[^,;。]{0,30}?(?:牵头|统筹|协调|主导)[^,;。]{0,8}?作用)")
# 「会同B、C…」: the verb, then the partners — the shortest unit list that a verb phrase follows (`_partners`).
_WITH = re.compile(r"\s*,?\s*(?:会同|联合|协调|组织|商|指导)")
_WITH_STOP = re.compile(r"[,;。:()]|等(?:有关|相关|其他)?(?:部门|单位)")
# How the verb phrase after a list of partners opens (「会同有关部门研究制定…」).
_VERB_NEXT = re.compile(r"共同|一起|开展|做好|推进|建立|制定|制订|修订|起草|拟定|研究|落实|完善|组织|实施|加强|强化|加快|推动|"
                        r"负责|出台|编制|抓好|进行|继续|提出|处理|统筹|按照|依据|根据|结合|对|就|向|在|将|于|及时|认真|切实|"
                        r"积极|进一步|抓紧|尽快|采取|作出|做出|指导|督促|协调|审核|组建|设立|成立|召开|举办|部署|安排|探索|"
                        r"提供|完成|形成|确定|明确|细化|深入|全面|广泛|定期|适时|联合|每年|逐步|另行|分别|同步|做")
# How a role verb is qualified: 「按职责分工」「按照各自职责」「依职责」「共同」「积极」…
_ROLE_MANNER = r"(?:(?:按照?|依照?|根据)(?:各自)?(?:职责|职能)(?:分工)?|分工|共同|积极|分别|密切|主动|全力)*"
_THEN = re.compile(rf"[^,;。]*?,\s*(?P<units>[^,;。:()]{{2,40}}?){_ROLE_MANNER}"
                   r"(?P<verb>承担|配合|参与|协助|负责|推进|(?:抓好|做好)?落实|实施|为(?:配合|参与|责任)(?:单位|部门))")
_LEAD_THEN_SUPPORT = re.compile(rf"(?:(?:^|(?<=[。;,]))\s*|由)(?P<lead>[^,;。:()由]{{2,40}}?)牵头{_NOT_A_NAME}\s*[,、]\s*"
                                rf"(?P<units>[^,;。:()]{{2,80}}?){_ROLE_MANNER}(?P<verb>配合|参与|协助)")
# 「A要加强统筹，会同B、C…」: a subject whose first verb phrase is followed by 会同 its partners.
_SUBJECT_THEN_WITH = re.compile(r"(?:^|(?<=[。;\n]))[ \t]*(?P<units>[^,;。:()由对\n]{2,40}?)(?:要|将|应当?|须)"
                                r"[^,;。:()]{1,20}?,\s*(?:并|同时)?(?P<verb>会同|联合)(?!意|国)")
# A sentence that is nothing but units and their roles closes a measure as a parenthesis would:
# 「由A、B按职责分工负责。」「A牵头负责，B、C等部门按职责分工配合。」「上述工作由A牵头，B按职责推进。」
_CLOSING_SENTENCE = re.compile(r"(?:^|(?<=[。;!?\n]))[ \t]*(?:(?:以上|上述|此项|该项|本项|相关|各项)(?:工作|任务|措施)?由)?"
                               r"(?P<body>[^。;!?\n]{4,200}?)[ \t]*(?=[。;!?\n]|$)")


# 「区商务委：负责…」: a paragraph opening with a unit, a colon and a duty.
_DUTY_UNIT = r"[^:,;。()\s]{2,25}?"  # the unit a duty paragraph opens with, then optionally 「…（的主要）职责」
_DUTY_OF = r"(?:的?(?:主要|工作)?职责)?"
_DUTY = re.compile(rf"\s*(?P<unit>{_DUTY_UNIT}){_DUTY_OF}\s*(?P<colon>:|。|——|—)\s*"
                   r"(?=(?:负责|牵头|承担|配合|协助|协同|参与|支持|会同|组织|督促|"
                   r"指导|做好|加强|依法|严厉|开展|落实|抓好|统筹|加大|强化|主动|积极|按照|严格|全面|对|依据|根据|结合|"
                   r"及时|定期|加快|推进|推动|完善|建立|健全|联合|做|实施|制定|研究|督办|配齐|保障|提供|核查|查处|"
                   r"持续|深入|不断|进一步|重点|着力|切实|认真|会商|负))")
# A duty that opens with its role: 「A：牵头…」 leads (stated), 「A：配合…」 supports.
_DUTY_ROLE = re.compile(r"(?P<lead>负责牵头|牵头负责|牵头)|(?:负责)?(?:配合|协助|协同|参与|支持)(?!下)")


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
    taken = [(marker.start, marker.end) for marker in found]
    asides = _parentheses(copy)  # no sentence marker inside an aside (one may hold a unit's alias)
    found += [marker for marker in (*_closing_sentences(original, copy), *_sentence_markers(original, copy))
              if not any(start < marker.end and marker.start < end for start, end in taken)
              and not any(start < marker.start < end for start, end in asides)]
    found.sort(key=lambda marker: (marker.start, -marker.end))
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
        # a bare list of units is a marker only as a sentence of its own, closing a measure
        bare = (not before or before in _BEFORE) and (copy[end:].lstrip(" \t\u3000")[:1] in ("", "\n", *_AFTER))
        if marker := _parse_parenthesis(original, copy, start, end, bare):
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


def _parse_parenthesis(original: str, copy: str, start: int, end: int, bare: bool) -> Marker | None:
    parsed = parse_segments(original, copy, start + 1, end - 1, bare)
    if parsed is None:
        return None
    kind = "labelled" if parsed.labelled else "paren"
    return Marker(start, end, original[start:end], parsed.assignments, parsed.lead_rule, parsed.onwards,
                  parsed.inherited, kind, parsed.deadline, parsed.per_group)


# --- labelled lines after a task -------------------------------------------------------------------

_LINE_START = re.compile(r"(?:^|(?<=[。;])|(?<=[^\d\s]\.))[ \t]*(?=【?(?:主要|具体|其他|共同)?"
                         r"(?:牵头|主责|主办|责任|负责|配合|协办|参与|协助|支持|实施|承办)"
                         r"(?:单位|部门|处室|科室|机构|主体)(?:\((?:单位|部门)\))?\s*(?::|为|】))", re.MULTILINE)


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


def _flattened_end(copy: str, start: int, end: int) -> int | None:
    """In text that lost its line breaks, a label line ends at the first space that neither another label
    nor a unit name follows (「责任单位：A，B 本通知自印发之日起实施」); None when the line has no such space."""
    for space in re.finditer(r"[ \t\u3000]+", copy[start:end]):
        after = start + space.end()
        following = re.match(r"[^\s,;。、:]+", copy[after:end])
        if after >= end or not following:
            continue
        if LABEL.match(copy, after) or DEADLINE_LABEL.match(copy, after) or looks_like_unit(following.group(0)):
            continue
        return start + space.start()
    return None


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
        if (spaced := _flattened_end(copy, position, len(copy) if newline == -1 else newline)) is not None:
            return spaced
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
        verb_class = LEAD if re.search("牵头|负总责|会同|联合|作用$", verb) else LISTED
        lead = unit_list(original, copy, match.start("units"), match.end("units"), verb_class, 0,
                      "牵头" if verb_class == LEAD else "")
        if not lead or not all(_sentence_unit(item.name) for item in lead):
            continue
        end, others = match.end(), []
        # 「A要会同B、C…」: the partners follow the verb at once
        tail = _WITH.match(copy, match.end() - 2 if verb.endswith(("会同", "联合")) else match.end())
        if tail and (partners := _partners(original, copy, tail.end())):
            others, end = partners
        elif verb == "联合":  # 「A、B联合印发」: 联合 assigns only with its partners
            continue
        elif verb_class == LEAD and (then := _THEN.match(copy, match.end())) and then.end() - match.end() < 80:
            # 「A牵头…，B按职责承担…」; but 「A负责X，B负责Y」 are two assignments
            then_class = SUPPORT if any(word in then.group("verb") for word in SUPPORT_WORDS) else LISTED
            candidates = unit_list(original, copy, then.start("units"), then.end("units"), then_class, 0,
                                then.group("verb") if then_class == SUPPORT else "")
            if candidates and all(_sentence_unit(item.name, generic=True) for item in candidates):
                others, end = candidates, then.end()
        markers.append(_sentence_marker(original, copy, match.start("units"), end, (*lead, *others)))
    for match in _SUBJECT_THEN_WITH.finditer(copy):
        lead = unit_list(original, copy, match.start("units"), match.end("units"), LEAD, 0, match.group("verb"))
        partners = _partners(original, copy, match.end())
        if lead and partners and all(_sentence_unit(item.name) for item in lead):
            markers.append(_sentence_marker(original, copy, match.start("units"), partners[1], (*lead, *partners[0])))
    for match in _LEAD_THEN_SUPPORT.finditer(copy):
        lead = unit_list(original, copy, match.start("lead"), match.end("lead"), LEAD, 0, "牵头")
        support = unit_list(original, copy, match.start("units"), match.end("units"), SUPPORT, 0, match.group("verb"))
        if lead and support and all(_sentence_unit(item.name) for item in (*lead, *support)):
            markers.append(_sentence_marker(original, copy, match.start("lead"), match.end(), (*lead, *support)))
    markers.sort(key=lambda marker: (marker.start, -marker.end))
    markers = [marker for index, marker in enumerate(markers)
               if not any(other.start <= marker.start and marker.end <= other.end for other in markers[:index])]
    # 「A负责X，B负责Y。」: two markers of one sentence share it at the second one's units
    for index in range(len(markers) - 1):
        first, second = markers[index], markers[index + 1]
        if first.task_start == second.task_start and first.end <= second.start:
            markers[index] = dataclasses.replace(first, task_end=second.start)
            markers[index + 1] = dataclasses.replace(second, task_start=second.start)
    return markers


def _closing_sentences(original: str, copy: str) -> list[Marker]:
    """Sentences that parse wholly as roles of units (`_CLOSING_SENTENCE`): like a parenthesis, they
    close the measure before them. Every segment needs a verb or label, so a bare list of names (a
    signature, a list of members) is not one."""
    markers = []
    for match in _CLOSING_SENTENCE.finditer(copy):
        parsed = parse_segments(original, copy, match.start("body"), match.end("body"))
        if parsed is None or not parsed.assignments or parsed.labelled \
                or not all(_sentence_unit(item.name, generic=item.verb_class == SUPPORT) for item in parsed.assignments):
            continue
        markers.append(Marker(match.start("body"), match.end("body"), original[match.start("body"):match.end("body")],
                              parsed.assignments, parsed.lead_rule, parsed.onwards, parsed.inherited, "sentence",
                              parsed.deadline, parsed.per_group))
    return markers


def _partners(original: str, copy: str, start: int) -> tuple[list[Assignment], int] | None:
    """The units right after 「会同」 and alike: the shortest list of unit-shaped names that punctuation,
    「等部门」 or the opening of a verb phrase follows (「会同市财政局研究制定…」, 「会同有关部门和单位强化…」);
    at most 80 characters. None when no such list starts there."""
    stop = _WITH_STOP.search(copy, start, start + 81)
    limit = stop.start() if stop else min(len(copy), start + 80)
    for end in range(start + 2, limit + 1):
        if end < limit and not _VERB_NEXT.match(copy, end):
            continue
        candidates = unit_list(original, copy, start, end, SUPPORT, 0, "会同")
        if candidates and all(_sentence_unit(item.name, generic=True) for item in candidates):
            return candidates, end
    return None


def _sentence_unit(name: str, generic: bool = False) -> bool:
    """Units in running text must be shaped like units; 「地方」「各地」 and alike only as partners."""
    return looks_like_unit(name) and (generic or name not in _VAGUE)


_VAGUE = frozenset({"地方", "各地", "各地区", "有关方面", "政府"})


def _sentence_marker(original: str, copy: str, start: int, end: int, assignments: tuple[Assignment, ...]) -> Marker:
    sentence_start = max((m.end() for m in _SENTENCE_END.finditer(copy, 0, start)), default=0)
    sentence_end = next((m.end() for m in _SENTENCE_END.finditer(copy, end)), len(copy))
    return Marker(start, end, original[start:end], assignments, kind="sentence",
                  task_start=sentence_start, task_end=sentence_end)


def _duty_markers(original: str, copy: str) -> list[Marker]:
    """「区商务委：负责…」 paragraphs: the unit before the colon (or 。/——, or 「…职责：」) is responsible for
    what follows on its line; a unit alone on its line (「区商务委：」) for the duty lines under it, up to
    the next such line."""
    markers = []
    for line in re.finditer(r"^.+$", copy, re.MULTILINE):
        end = line.end()
        if _UNIT_ALONE.fullmatch(copy, line.start(), end) and _ALONE_DUTY.match(copy, end):
            end = _duties_end(copy, end)
        match = _DUTY.match(copy, line.start(), end)
        if not match or LABEL.match(copy, line.start() + len(match.group(0)) - len(match.group(0).lstrip())):
            continue
        units = unit_list(original, copy, match.start("unit"), match.end("unit"), LISTED, 0, "")
        # after 。 or —— the name must be a placed or known body: a measure's run-in title ends with 。 too
        shaped = looks_like_unit if match.group("colon") == ":" else names_a_body
        if not units or not all(shaped(item.name) for item in units):
            continue
        role = _DUTY_ROLE.match(copy, match.end(), end)
        verb_class = LEAD if role and role.group("lead") else SUPPORT if role else LISTED
        units = [Assignment(item.name, item.includes, verb_class, 0, role.group(0) if role else "") for item in units]
        markers.append(Marker(match.start("unit"), match.end(), original[match.start("unit"):match.end()],
                              tuple(units), kind="duty", task_start=match.end(), task_end=end))
    return markers


# Under a unit alone, the first line states a role (a salutation 「各区人民政府：」 is followed by prose).
_ALONE_DUTY = re.compile(r"\s*(?:\d{1,2}[.、]|\(\d{1,2}\))?\s*(?:负责|牵头|配合|协助|参与|承担|会同)")
_UNIT_ALONE = re.compile(rf"\s*{_DUTY_UNIT}{_DUTY_OF}\s*:\s*")


def _duties_end(copy: str, start: int) -> int:
    """Where the duty lines under a unit standing alone end: before the next unit alone or duty line, a
    blank line, or the text's end."""
    newline = copy.find("\n", start + 1)  # the line after the unit's is its first duty (`_ALONE_DUTY`)
    while newline != -1:
        after = copy.find("\n", newline + 1)
        following = copy[newline + 1:after if after != -1 else len(copy)]
        if not following.strip() or _UNIT_ALONE.fullmatch(following) or _DUTY.match(following):
            return newline
        newline = after
    return len(copy)
