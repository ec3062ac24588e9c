"""Department names: canonical Simplified names, levels and aliases.

A name is canonicalised in the context of its document: 「市发改委」 in a Wuhan plan is
武汉市发展和改革委员会, in another city's plan another body. Sources, in order: aliases learned
from the document's own signature block, the national alias table (`data/departments.tsv`), and
local short forms expanded with `data/department_stems.tsv` and the document's locality.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from .normalize import compact

_DATA = Path(__file__).parent / "data"
_LOCAL_PREFIX = {"市": "municipal", "省": "provincial", "区": "district", "县": "district"}
_TRAILING = re.compile(r"(等)?(有关|相关)?(部门和单位|部门|单位)?$")
_BODY_SUFFIX = re.compile(r"(部|委|局|厅|办|署|会|院|行|社|政府|办公室|中心|集团|公司|部门|单位|司|处|所|联|"
                          r"团中央|营管部|管委会|小组|组|机关|工委|委员会|总社|法院|检察院|分行|支行|队|站|"
                          r"有限公司|党委|政府办公厅)$")
GENERIC_UNITS = frozenset({"地方", "各地", "各地区", "地方政府", "地方各级人民政府", "各级政府", "有关方面"})
_TITLE_LOCALITY = re.compile(r"^(?P<name>[\u4e00-\u9fa5]{2,6}?(?:省|自治区|市))")


@dataclass(frozen=True)
class Locality:
    """Where a document's local short forms (市…, 省…) point."""

    city: str = ""  # e.g. 武汉市
    province: str = ""  # e.g. 湖北省
    learned: Mapping[str, str] = field(default_factory=dict)  # compact short form -> full name


@functools.cache
def _alias_table() -> dict[str, tuple[str, str]]:
    table: dict[str, tuple[str, str]] = {}
    for line in (_DATA / "departments.tsv").read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        canonical, level, aliases = (line.split("\t") + [""])[:3]
        for name in [canonical, *filter(None, aliases.split("|"))]:
            table[name] = (canonical, level)
    return table


@functools.cache
def _stems() -> dict[str, str]:
    rows = (line.split("\t") for line in (_DATA / "department_stems.tsv").read_text(encoding="utf-8").splitlines()
            if line and not line.startswith("#"))
    return {short: full for short, full in rows}


def department_vocabulary() -> frozenset[str]:
    """Every department name and short form the tables know, with 市/省/区 forms of local stems."""
    names = set(_alias_table())
    for short, full in _stems().items():
        names.update((short, full))
        names.update(prefix + stem for prefix in ("市", "省", "区", "县") for stem in (short, full))
    return frozenset(names)


def locality_of(title: str, issuers: tuple[str, ...]) -> tuple[str, str]:
    """(city, province) named at the start of the title or of an issuer, e.g. ("武汉市", "")."""
    city = province = ""
    for text in (compact(title), *map(compact, issuers)):
        match = _TITLE_LOCALITY.match(text)
        if not match:
            continue
        name = match.group("name")
        if re.search(r"关于|国务院|在|对", name):
            continue
        if name.endswith("市") and not city:
            city = name
        elif not name.endswith("市") and not province:
            province = name
    return city, province


def clean_name(name: str) -> str:
    """Compact Simplified form with trailing 等/有关部门 removed: the key all look-ups use."""
    key = compact(name)
    cleaned = _TRAILING.sub("", key)
    return cleaned if len(cleaned) >= 2 else key


def canonical_name(name: str, locality: Locality) -> tuple[str, str]:
    """(canonical name, level) for a department name as printed."""
    key = clean_name(name)
    if key in locality.learned:
        full = locality.learned[key]
        return full, _level_of(full, key)
    if key in _alias_table():
        return _alias_table()[key]
    prefix, stem = key[:1], key[1:]
    if prefix in _LOCAL_PREFIX and stem:
        full_stem = _stems().get(stem, stem)
        place = {"市": locality.city, "省": locality.province}.get(prefix, "")
        return (place or prefix) + full_stem, _LOCAL_PREFIX[prefix]
    return key, _level_of(key, key)


def _level_of(full: str, key: str) -> str:
    if key in _alias_table():
        return _alias_table()[key][1]
    if re.search(r"(区|县)(人民政府|政府)?$", full) or key.startswith(("各区", "区")):
        return "district"
    if re.search(r"^[\u4e00-\u9fa5]{2,6}?市", full) or key.startswith(("各市", "市")):
        return "municipal"
    if re.search(r"^[\u4e00-\u9fa5]{2,6}?(省|自治区)", full) or "省级" in key or key.startswith("省"):
        return "provincial"
    if re.search(r"(部|总局|总署)$", full) or full.startswith(("国家", "国务院", "中国", "中华", "中央")):
        return "national"
    return "unknown"


def looks_like_body(name: str) -> bool:
    """Whether a listed name is plausibly a unit (not a sentence fragment)."""
    key, printed = clean_name(name), compact(name)
    if not 2 <= len(key) <= 30 or re.search(r"[。由将对的]", key):
        return False
    return key in _alias_table() or key in GENERIC_UNITS or any(_BODY_SUFFIX.search(form) for form in (key, printed)) or key.startswith("各")


def learn_aliases(short_names: list[str], full_names: list[str]) -> dict[str, str]:
    """Pair the issuers named in a notice title with the full names of its signature block, in order.

    Only when both lists have the same length and each pair shares its last character class
    (局/局, 委/会…): 「市发改委」 ↔ 「武汉市发展和改革委员会」.
    """
    if len(short_names) != len(full_names) or len(short_names) < 2:
        return {}
    pairs = {}
    for short, full in zip(short_names, full_names):
        short_key, full_key = clean_name(short), compact(full)
        if short_key != full_key and short_key[-1:] in full_key[-3:] + "会":
            pairs[short_key] = full_key
    return pairs if len(pairs) >= len(short_names) // 2 else {}
