"""Whether a document is in force, as its own text or its manifest says, and which older documents it
repeals or amends.

A document that says when it takes effect (「本条例自2019年3月1日起施行」, 「自印发之日起实施」, a law's
「2021年1月1日 施行」 header) is 有效 as ingested; whether a newer one has since repealed or amended it is
the store's to say (index.reads), from the `Change`s read here:

- 「1991年3月4日国务院发布的《专利代理暂行规定》同时废止」, 「《A》和《B》自本办法施行之日起废止」 → A, B repealed;
- 「国务院决定废止《A》」, 「现予废止《A》」 → A repealed;
- a title 「国务院关于修改《A》的决定」 or a sentence 「决定对《A》作如下修改」 → A amended.

A manifest's or a page's 「有效性」/「文件状态」 (metadata `validity`) wins over the text: 有效 / 现行有效,
已修订 / 已修改 / 已被修改, 已废止 / 废止 / 失效 / 已失效, 未知, or the English values.
"""

from __future__ import annotations

import logging
import re
from typing import Iterable

from .normalize import compact
from .records import Change, Validity

logger = logging.getLogger(__name__)

# Named patterns (tests/test_rules.py tries each by name), run on the matching copy without spaces.
IN_FORCE = {
    "effective_from": re.compile(r"自[^。;，,]{1,30}?起(施行|实施|生效|执行)"),
    "law_header": re.compile(r"^[(（]?\d{4}年\d{1,2}月\d{1,2}日施行[)）]?$"),
}
_TITLE = r"《([^《》]{2,80})》"
REPEAL_AFTER = re.compile(r"(同时|予以|一并|即行|自[^。;《》]{1,30}?起)?废止[。;]?$")  # 「《A》…同时废止。」
REPEAL_BEFORE = re.compile(r"(决定|现予|予以|同时|现决定|一并)废止(下列|以下)?[^。;]{0,10}?《")  # 「决定废止《A》」
AMEND_TITLE = re.compile(r"关于修改" + _TITLE)  # 「国务院关于修改《A》的决定」
AMEND_SENTENCE = re.compile(r"决定对" + _TITLE + r"(作|做)(如下|以下)?修改")
STATED = {
    "valid": Validity.VALID, "有效": Validity.VALID, "现行有效": Validity.VALID, "生效": Validity.VALID,
    "amended": Validity.AMENDED, "已修订": Validity.AMENDED, "已修改": Validity.AMENDED, "已被修改": Validity.AMENDED,
    "修订": Validity.AMENDED, "已修正": Validity.AMENDED,
    "repealed": Validity.REPEALED, "已废止": Validity.REPEALED, "废止": Validity.REPEALED, "失效": Validity.REPEALED,
    "已失效": Validity.REPEALED, "unknown": Validity.UNKNOWN, "未知": Validity.UNKNOWN,
}


def stated_validity(value: str, source: str = "") -> Validity | None:
    """A manifest's or page's validity value, or None when there is none or it is not one we know."""
    value = compact(value).lower()
    if not value:
        return None
    if value not in STATED:
        logger.warning("%s: 有效性「%s」无法识别，按文本判断（可写：%s）", source, value, "、".join(STATED))
        return None
    return STATED[value]


def read_validity(title: str, texts: Iterable[str], stated: str = "", source: str = "") -> tuple[Validity, tuple[Change, ...]]:
    """The document's validity as ingested and the documents it repeals or amends."""
    copies = [compact(text) for text in texts]
    changes = [*_amended_in_title(title), *(change for copy in copies for change in _changes_in(copy))]
    validity = stated_validity(stated, source)
    if validity is None:
        in_force = any(pattern.search(copy) for copy in copies for pattern in IN_FORCE.values())
        validity = Validity.VALID if in_force else Validity.UNKNOWN
    return validity, tuple(dict.fromkeys(changes))


def _amended_in_title(title: str) -> list[Change]:
    return [Change(name, Validity.AMENDED) for name in AMEND_TITLE.findall(compact(title))]


def _changes_in(copy: str) -> list[Change]:
    found = []
    for sentence in re.split(r"(?<=[。;])", copy):
        if "废止" in sentence and "《" in sentence:
            if REPEAL_AFTER.search(sentence):
                found += [Change(name, Validity.REPEALED) for name in re.findall(_TITLE, sentence.rsplit("废止", 1)[0])]
            elif match := REPEAL_BEFORE.search(sentence):
                found += [Change(name, Validity.REPEALED) for name in re.findall(_TITLE, sentence[match.end() - 1:])]
        found += [Change(match.group(1), Validity.AMENDED) for match in AMEND_SENTENCE.finditer(sentence)]
    return found
