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
from .records import Level

_DATA = Path(__file__).parent / "data"
_LOCAL_PREFIX = {"市": Level.MUNICIPAL, "省": Level.PROVINCIAL, "区": Level.DISTRICT, "县": Level.DISTRICT}
_TRAILING = re.compile(r"(等)?(有关|相关)?(部门和单位|部门|单位)?$")
# How unit names end: the institutional endings of the grammar (a place, a stem, an ending).
_BODY_SUFFIX = re.compile(r"(部|委|局|厅|办|署|会|院|行|社|政府|办公室|中心|集团|公司|部门|单位|司|处|室|所|联|"
                          r"团中央|营管部|管委会|小组|组|机关|工委|委员会|总社|法院|检察院|分行|支行|队|站|馆|台|"
                          r"有限公司|党委|政府办公厅|海关|银行|监管局|工会|团委|妇联|科协|残联|侨联|文联|工商联|"
                          r"指挥部|街道|街镇|镇|乡|园区|高校|学校|院校|机构|企业|协会|学会|基金会|研究院|研究所|"
                          r"实验室|平台|集团公司|总队|支队|大队|中队|分局|分公司|片区|开发区|新区|高新区|试验区|股|股室|"
                          r"厂|林场|农场|牧场|机场)$")
GENERIC_UNITS = frozenset({"地方", "各地", "各地区", "地方政府", "地方各级人民政府", "各级政府", "有关方面"})
# Names that cannot be units however they end: sentence words and verbs.
_NOT_A_NAME = re.compile(r"[。由将对的要把被\d.．]|加强|推进|推动|建立|完善|开展|实施|落实|负责|牵头(?!医院|学校|企业|机构)|配合|参与|提高|"
                         r"加快|支持|鼓励|引导|严格|确保|力争|达到|以上|以下|不得|应当|可以|进行|年|月|"
                         # words that name units inside (组织部, 研究室, 协调办) only fail a name they open
                         r"^(?:健全|强化|深化|优化|构建|形成|坚持|促进|发挥|提升|压实|明确|统筹|夯实|做好|抓好|督促|"
                         r"指导|组织|协调|研究|制定|出台|编制|按照|根据|通过|以及|其中|同时|并|与|向|在)")
# Names a generic 企业/机构/平台 ending makes a unit only with a qualifier (有关企业, 重点企业).
_QUALIFIED_ONLY = re.compile(r"(企业|机构|平台|园区|高校|学校|院校)$")
_PLACE_PREFIX = re.compile(r"^(?:国家|国务院|中共中央|中央|全国|中国|中华|各|有关|相关|省|市|区|县|州|"
                           r"[\u4e00-\u9fa5]{2,7}?(?:省|自治区|特别行政区|市|自治州|州|地区|盟|区|县|旗))")
_NATIONAL_SHAPE = re.compile(r"^(?:国家|国务院|中共中央|中央|全国|中国|中华)|(?:部|总局|总署|总社|总会)$")
_TITLE_LOCALITY = re.compile(r"^(?P<name>[\u4e00-\u9fa5]{2,6}?(?:省|自治区|市))")


@dataclass(frozen=True)
class Locality:
    """Where a document's local short forms (市…, 省…) point."""

    city: str = ""  # e.g. 武汉市
    province: str = ""  # e.g. 湖北省
    learned: Mapping[str, str] = field(default_factory=dict)  # compact short form -> full name
    district: str = ""  # e.g. 黄埔区

    @property
    def own_prefix(self) -> str:
        """The prefix a unit of this document's own level carries: 区, 市, 省, or "" (national)."""
        return "区" if self.district else "市" if self.city else "省" if self.province else ""


@functools.cache
def _alias_table() -> dict[str, tuple[str, Level]]:
    table: dict[str, tuple[str, Level]] = {}
    for line in (_DATA / "departments.tsv").read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        canonical, level, aliases = (line.split("\t") + [""])[:3]
        for name in [canonical, *filter(None, aliases.split("|"))]:
            table[name] = (canonical, Level(level))
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


def district_of(title: str, issuers: tuple[str, ...]) -> str:
    """The district or county a title or issuer starts with (「广州市黄埔区…」 → 黄埔区), or ""."""
    for text in (compact(title), *map(compact, issuers)):
        if match := re.match(r"^(?:[\u4e00-\u9fa5]{2,6}?(?:省|自治区))?(?:[\u4e00-\u9fa5]{2,6}?市)?"
                             r"(?P<name>[\u4e00-\u9fa5]{1,6}?(?:区|县))", text):
            if not re.search(r"关于|国务院|各区|地区|城区|新区|园区|社区|自治区", match.group("name")):
                return match.group("name")
    return ""


def clean_name(name: str) -> str:
    """Compact Simplified form with trailing 等/有关部门 removed: the key all look-ups use."""
    key = compact(name)
    cleaned = _TRAILING.sub("", re.sub(r"(?<=.{2})(?:\([^)]*\)|〈[^〉]*〉|〔[^〕]*〕)$", "", key))  # an alias: 市发改委(市能源局)
    return cleaned if len(cleaned) >= 2 else key


def canonical_name(name: str, locality: Locality, elided: str = "") -> tuple[str, Level]:
    """(canonical name, level) for a department name as printed.

    A name with no place of its own belongs to a place: `elided`, the prefix of the unit listed
    before it (「省发展改革委、科技厅」: 科技厅 is the province's), else the document's own level
    (a provincial plan's 「能源局」 is the provincial 能源局, not 国家能源局) unless the name is
    national by its shape (国家…, …部, …总局)."""
    key = clean_name(name)
    table = _alias_table().get(key)
    shaped = not _OWN_PLACE.search(key) if elided else _local_shape(key)
    if not place_prefix(key) and key not in locality.learned and key not in GENERIC_UNITS and shaped and \
            (table is None or table[1] == Level.NATIONAL and table[0] != key):
        prefix = elided or locality.own_prefix
        if prefix and not _NATIONAL_SHAPE.search(key) and prefix not in ("国家", "国务院", "中央", "全国", "中国"):
            return canonical_name(prefix + key, locality)
    return _canonical(key, locality)


def _local_shape(key: str) -> bool:
    """Whether a name without a place reads as a department of a local government (科技厅, 能源局,
    发改委), rather than a body with a place of its own (苏州海关, 民航中南管理局, 广铁集团)."""
    if key in _stems() or key in _alias_table():
        return True
    return bool(re.search(r"(厅|局|委|办|委员会|办公室)$", key)) and len(key) <= 9 and \
        not _OWN_PLACE.search(key) and not re.search(r"监管局|管理局", key)


# Bodies that carry a place of their own or none (a customs house, a bank, a company, the railway).
_OWN_PLACE = re.compile(r"海关|银行|集团|公司|铁路|民航|电网|中国|分行|支行|国家|中央|全国")


def _canonical(key: str, locality: Locality) -> tuple[str, Level]:
    if key in locality.learned:
        full = locality.learned[key]
        return full, _level_of(full, key)
    if key in _alias_table():
        return _alias_table()[key]
    prefix, stem = key[:1], key[1:]
    if prefix in _LOCAL_PREFIX and stem:
        full_stem = _stems().get(stem, stem)
        place = {"市": locality.city, "省": locality.province, "区": locality.district, "县": locality.district}.get(prefix, "")
        if prefix in ("区", "县") and place and not place.endswith(prefix):
            place = ""
        return (place or prefix) + full_stem, _LOCAL_PREFIX[prefix]
    return key, _level_of(key, key)


def _level_of(full: str, key: str) -> Level:
    if key in _alias_table():
        return _alias_table()[key][1]
    if re.search(r"(区|县)(人民政府|政府)?$", full) or key.startswith(("各区", "区")):
        return Level.DISTRICT
    if re.search(r"^[\u4e00-\u9fa5]{2,6}?市", full) or key.startswith(("各市", "市")):
        return Level.MUNICIPAL
    if re.search(r"^[\u4e00-\u9fa5]{2,6}?(省|自治区)", full) or "省级" in key or key.startswith("省"):
        return Level.PROVINCIAL
    if re.search(r"(部|总局|总署)$", full) or full.startswith(("国家", "国务院", "中国", "中华", "中央")):
        return Level.NATIONAL
    return Level.UNKNOWN


def looks_like_unit(name: str) -> bool:
    """Whether a listed name is shaped like a unit: [place] stem ending, not a sentence fragment.
    Unknown units are units too: the tables only canonicalise, they never decide."""
    key, printed = clean_name(name), compact(name)
    if not 2 <= len(key) <= 30 or _NOT_A_NAME.search(re.sub(r"\([^)]*\)|〈[^〉]*〉", "", key).replace("实施单位", "")):
        return False
    if key in _alias_table() or key in GENERIC_UNITS or key in _stems():
        return True
    if not any(_BODY_SUFFIX.search(form) for form in (key, printed)):
        return False
    return not _QUALIFIED_ONLY.search(key) or len(key) > 2 and key[:2] not in ("企业", "机构")


looks_like_body = looks_like_unit


def names_a_body(name: str) -> bool:
    """A stricter test for a name that stands with no role word around it (a bare list in brackets):
    shaped like a unit and either placed (市…, 各区…, 国家…) or a known body (财政部, 团市委)."""
    key = clean_name(name)
    return looks_like_unit(name) and len(key) >= 3 and bool(place_prefix(name) or key in _alias_table() or key in _stems())


def place_prefix(name: str) -> str:
    """The place a unit name starts with: 「省」「市」「重庆市」「国家」…, or "" when it names none."""
    key = clean_name(name)
    match = _PLACE_PREFIX.match(key)
    if not match or match.end() == len(key):
        return ""
    if key in _alias_table() and not match.group(0).startswith(("国家", "国务院", "中共中央", "中央", "全国", "中国", "中华")):
        return ""  # 「市场监管总局」 starts with 市 but names no place
    return match.group(0)


def split_distributive(names: list[str]) -> list[str]:
    """「广州、深圳市人民政府」 lists two bodies: a bare place before a placed unit takes its ending."""
    result = list(names)
    for index in range(len(result) - 2, -1, -1):
        name, following = compact(result[index]), compact(result[index + 1])
        if looks_like_unit(name) or not re.fullmatch(r"[\u4e00-\u9fa5]{2,4}", name):
            continue
        if place := re.match(r"^[\u4e00-\u9fa5]{2,4}?(?P<suffix>省|自治区|市|区|县)(?=\S{2,})", following):
            ending = following[place.end():]  # 「武昌、江夏区人民政府」 and 「武昌区、江夏区人民政府」 alike
            result[index] = name + ending if name.endswith(place.group("suffix")) else \
                name + place.group("suffix") + ending
    return result


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
