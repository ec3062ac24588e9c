"""Each named rule on its own: heading patterns, marker forms, noise lines, aliases, readers."""

from __future__ import annotations

import pytest

from conftest import DATA, SEED
from ingest import SourceText, ingest_file, parse_document, read_source
from ingest.departments import Locality, canonical_name, learn_aliases
from ingest.frontmatter import enactment_date, noise_patterns, parse_date, signature_date
from ingest.headings import HEADING_PATTERNS, match_heading
from ingest.markers import find_markers
from ingest.normalize import chinese_number, compact, matching_copy
from ingest.records import Change, Validity
from ingest.validity import IN_FORCE, read_validity
from ingest.readers import decode_text

HEADING_EXAMPLES = {
    "part": ("第二编 物权", "b2"), "chapter": ("第一章  基本规定", "c1"), "law_section": ("第三节 监护", "j3"),
    "article": ("第一百零三条 非法人组织", "a103"), "section": ("二、深入推进绿色低碳发展转型", "s2"),
    "item": ("（十二）推进水环境治理协同控制。", "p12"), "point": ("21.推广创新制度。", "n21"),
    "subpoint": ("(3)加强监测。", "i3"), "circled": ("②完善标准。", "o2"), "attachment": ("附件2", "fj2"),
}


@pytest.mark.parametrize("pattern", HEADING_PATTERNS, ids=lambda pattern: pattern.kind)
def test_heading_pattern(pattern):
    text, component = HEADING_EXAMPLES[pattern.kind]
    heading = match_heading(matching_copy(text), text)
    assert heading is not None and (heading.kind, heading.component) == (pattern.kind, component)


@pytest.mark.parametrize("text", ["2025年全市煤炭消费", "1.5倍以上", "十九大以来", "第一是", "附件：请于3月底前报送材料。"])
def test_not_a_heading(text):
    assert match_heading(matching_copy(text), text) is None


def test_article_with_a_suffix_and_half_width_item():
    assert match_heading("第十条之一 内容", "第十条之一 内容").component == "a10-1"
    assert match_heading(matching_copy("(一)扎實實施"), "(一)扎實實施").number == "(一)"


MARKER_FORMS = {
    "按职责分工落实": ("。（市发改委、市生态环境局按职责分工落实）", [("市发改委", "lead"), ("市生态环境局", "co")]),
    "负责": ("。（农业农村部、工业和信息化部负责）", [("农业农村部", "lead"), ("工业和信息化部", "co")]),
    "牵头配合": ("。（市发改委牵头，市财政局、市统计局配合）", [("市发改委", "lead"), ("市财政局", "support"), ("市统计局", "support")]),
    "牵头负责": ("。（农业农村部、工业和信息化部牵头负责）", [("农业农村部", "lead"), ("工业和信息化部", "lead")]),
    "等负责": ("。（人力资源社会保障部等有关部门和单位负责）", [("人力资源社会保障部", "lead")]),
    "分工负责加配合": ("。（省发改委、省经信厅按职责分工负责，省委深改委各成员单位按职责配合）",
                  [("省发改委", "lead"), ("省经信厅", "co"), ("省委深改委各成员单位", "support")]),
    "等和省级政府": ("。（商务部、扶贫办等和各有关省级人民政府负责）", [("商务部", "lead"), ("扶贫办", "co"), ("各有关省级人民政府", "co")]),
    "标注式": ("。（负责部门：商务部、海关总署，适用范围：福建自贸试验区）", [("商务部", "lead"), ("海关总署", "co")]),
    "半角括号": ("。(市发改委、市统计局按职责分工落实)", [("市发改委", "lead"), ("市统计局", "co")]),
}


@pytest.mark.parametrize("name", sorted(MARKER_FORMS))
def test_marker_form(name):
    text, expected = MARKER_FORMS[name]
    document_text = "一、任务\n（一）做好工作" + text
    path_roles = _roles_of(document_text)
    assert path_roles == expected


def _roles_of(text: str) -> list[tuple[str, str]]:
    from ingest.parse import parse_document
    from ingest.records import SourceText
    source = SourceText(tuple(text.split("\n")), "txt", "utf-8", "0" * 64, "test", {"title": "测试方案"})
    (task,) = [task for clause in parse_document(source).clauses for task in clause.tasks]
    return [(item.name, item.role) for item in task.departments]


def test_lead_rule_applies_to_later_markers():
    text = ("一、任务\n（一）甲。（体育总局、教育部负责，排在第一位的部门为牵头部门，下同）\n"
            "（二）乙。（教育部、体育总局负责）")
    from ingest.parse import parse_document
    from ingest.records import SourceText
    document = parse_document(SourceText(tuple(text.split("\n")), "txt", "utf-8", "0" * 64, "t", {"title": "测试"}))
    second = [clause for clause in document.clauses if clause.kind == "item"][1]
    assert second.tasks[0].departments[0].basis == "rule:排在第一位的部门为牵头部门"


@pytest.mark.parametrize("text", [
    "分别负责管理（技工院校内由人力资源社会保障行政部门负责），国务院",
    "。（企业直接向国家发展改革委申报，不需省级发展改革部门转报）",
    "。（此件公开发布）",
    "资金（含中央预算内投资）用于建设。",
])
def test_not_a_marker(text):
    assert find_markers(text, matching_copy(text)) == []


NOISE_EXAMPLES = {
    "keywords": "關鍵詞:污水處理運營 污水處理外包", "page_tools": "下载 打印 全屏", "font_size": "【字体：大 中 小】",
    "related": "相关报道：国务院常务会议", "editor": "责任编辑：张三", "breadcrumb": "当前位置：首页 > 政策",
    "copyright": "版权所有：中国政府网", "chrome_word": "收藏", "published": "时间：2026-02-09",
    "timestamp": "2026-02-03 09:02:33", "source_note": "（来源：青海日报）", "promotion": "》》点击图片进入专题《《",
    "accessibility": "无障碍浏览 长者模式",
}


@pytest.mark.parametrize("name, pattern", noise_patterns(), ids=lambda value: value if isinstance(value, str) else "")
def test_noise_pattern(name, pattern):
    assert pattern.search(matching_copy(NOISE_EXAMPLES[name]).replace(" ", "")) or pattern.search(
        matching_copy(NOISE_EXAMPLES[name]))


def test_department_canonical_names_and_levels():
    wuhan = Locality(city="武汉市")
    assert canonical_name("市發改委", wuhan) == ("武汉市发展和改革委员会", "municipal")
    assert canonical_name("市发展和改革委员会", wuhan)[0] == "武汉市发展和改革委员会"
    assert canonical_name("人行武漢分行營管部", wuhan) == ("中国人民银行武汉分行营业管理部", "municipal")
    assert canonical_name("国家发展改革委", Locality()) == ("国家发展和改革委员会", "national")
    assert canonical_name("发展改革委", Locality()) == ("国家发展和改革委员会", "national")
    assert canonical_name("省发改委", Locality(province="湖北省")) == ("湖北省发展和改革委员会", "provincial")
    assert canonical_name("各省级人民政府", Locality())[1] == "provincial"


def test_aliases_are_learned_only_from_matching_lists():
    pairs = learn_aliases(["市生態環境局", "市發改委"], ["武漢市生態環境局", "武漢市發展和改革委員會"])
    assert pairs == {"市生态环境局": "武汉市生态环境局", "市发改委": "武汉市发展和改革委员会"}
    assert learn_aliases(["市生态环境局"], ["武汉市生态环境局", "武汉市发展和改革委员会"]) == {}


def test_encodings_are_detected_and_recorded():
    gbk = read_source(DATA / "guofa_2019_3_gbk.txt")
    assert gbk.encoding == "gb18030" and gbk.metadata["doc_number"] == "国发〔2019〕3号"
    big5 = read_source(DATA / "seed_big5.txt")
    assert big5.encoding == "big5" and "一、總體要求" in big5.blocks
    assert read_source(SEED).encoding == "utf-8"
    assert decode_text("\ufeff一、总体要求".encode("utf-8"), "bom.txt") == ("一、总体要求", "utf-8")
    assert ingest_file(DATA / "seed_big5.txt").id == "武汉市减污降碳协同增效实施方案"


def test_html_page_chrome_is_dropped():
    document = ingest_file(DATA / "gov_page.html")
    assert document.id == "国发-2019-3" and document.date == "2019-01-12"
    text = "\n".join(clause.text for clause in document.clauses)
    for chrome in ("打印", "字体", "当前位置", "版权所有", "alert", "统计代码", "相关报道", "总理"):
        assert chrome not in text
    tasks = [task for clause in document.clauses for task in clause.tasks]
    assert [item.canonical for item in tasks[1].departments] == ["海关总署", "财政部", "国家税务总局"]
    assert tasks[1].departments[0].basis == "rule:排在第一位的部门为牵头部门"


def test_markdown_law_articles():
    document = ingest_file(DATA / "civil_code_excerpt.md")
    assert document.id == "中华人民共和国民法典-总则" and document.level == "national"
    articles = [clause for clause in document.clauses if clause.kind == "article"]
    assert [clause.id.rsplit(".", 1)[1] for clause in articles[:3]] == ["a1", "a2", "a3"]
    assert articles[2].text.startswith("民事主体的人身权利") and articles[2].heading_path == ("第一章基本规定",)


def test_dates_and_numerals():
    assert parse_date("2023年5月11日") == "2023-05-11"
    assert parse_date("二〇一九年一月十二日") == "2019-01-12"
    assert [chinese_number(n) for n in ("十", "十二", "二十六", "一百零三", "两")] == [10, 12, 26, 103, 2]


@pytest.mark.parametrize("line, date", [
    ("（2020年5月28日第十三届全国人民代表大会第三次会议通过）", "2020-05-28"),
    ("2020年5月28日 第十三届全国人民代表大会第三次会议通过", "2020-05-28"),
    ("（1986年4月12日第六届全国人民代表大会第四次会议通过　根据2009年8月27日第十一届全国人民代表大会常务委员会"
     "第十次会议《关于修改部分法律的决定》修正）", "1986-04-12"),
    ("2018年11月6日中华人民共和国国务院令第706号公布", "2018-11-06"),
    ("依照2006年10月31日第十届全国人民代表大会常务委员会第二十四次会议通过的《决定》和有关法律法规，批复如下：", ""),
])
def test_enactment_date_of_a_law_header(line, date):
    assert enactment_date(line) == date


def test_signature_before_the_annexes_gives_the_date():
    # 国函〔2006〕38号 (corpus/state_council/46): the signature sits between 「附件：」 and the annex itself
    blocks = ["同意组建2008年北京奥运会首都国际机场协调委员会。协调委员会不刻制印章，不正式行文。",
              "附件：2008年北京奥运会首都国际机场协调委员会组建方案", "国务院", "二〇〇六年五月二十三日", "附件：",
              "2008年北京奥运会首都国际机场", "协 调 委 员 会 组 建 方 案"]
    assert signature_date(blocks) == "2006-05-23"
    assert signature_date(["2019年1月16日", "（此件公开发布）"]) == ""  # a date without an issuer above it


def test_documents_with_a_signature_before_annexes_or_a_law_header_have_a_date():
    text = ("国务院关于同意建立国务院职业教育工作部际联席会议制度的批复\n国函〔2018〕144号\n教育部：\n"
            "同意建立由国务院领导同志牵头负责的国务院职业教育工作部际联席会议制度。\n附件：国务院职业教育工作部际联席会议制度\n"
            "国务院\n2018年11月20日\n（此件公开发布）\n附件\n国务院职业教育工作部际联席会议制度\n一、主要职责\n（一）统筹协调。")
    document = parse_document(SourceText(tuple(text.split("\n")), "txt", "utf-8", "0" * 64, "t"))
    assert document.date == "2018-11-20"
    assert ingest_file(DATA / "civil_code_excerpt.md").date == "2020-05-28"  # 「2020年5月28日 第十三届…会议通过」


def test_crawl_header_with_unknown_keys_and_one_word_chrome(tmp_path):
    page = tmp_path / "report.txt"
    page.write_text("标题: 2026年政府工作报告\n省份: 云南省\n来源URL(采集者记录): https://example.invalid/1\n----\n"
                    "下载\n打印\n全屏\n收藏\n【字号：\n加大\n还原\n减小\n】\n2026-02-03 09:02:33\n各位代表：\n"
                    "现在，我代表省人民政府，向大会报告工作。\n一、2025年工作回顾\n过去一年，全省经济稳中有进。\n相关报道：\n",
                    encoding="utf-8")
    document = ingest_file(page)
    assert document.id == "云南省2026年政府工作报告" and document.level == "provincial"
    text = "\n".join(clause.text for clause in document.clauses)
    for chrome in ("下载", "收藏", "字号", "加大", "09:02", "相关报道"):
        assert chrome not in text


def test_a_given_level_is_checked():
    """A manifest's level is one of Level's values or its Chinese name; anything else is a ParseError
    naming the values, never a string the store cannot read back."""
    from ingest import Level, ParseError
    from ingest.parse import parse_document
    from ingest.records import SourceText

    def level(given: str) -> Level:
        source = SourceText(("一、任务", "（一）甲。"), "txt", "utf-8", "0" * 64, "t", {"title": "测试", "level": given})
        return parse_document(source).level

    assert level("national") is Level.NATIONAL and level("市级") is Level.MUNICIPAL
    with pytest.raises(ParseError, match="national、provincial"):
        level("中央")


IN_FORCE_EXAMPLES = {"effective_from": "本条例自2019年3月1日起施行。", "law_header": "2021年1月1日 施行"}


@pytest.mark.parametrize("name", IN_FORCE, ids=str)
def test_in_force_pattern(name):
    assert IN_FORCE[name].search(compact(IN_FORCE_EXAMPLES[name]))
    assert read_validity("测试", [IN_FORCE_EXAMPLES[name]]) == (Validity.VALID, ())


@pytest.mark.parametrize("text, changes", [
    ("1991年3月4日国务院发布的《专利代理暂行规定》同时废止。", [("专利代理暂行规定", "repealed")]),
    ("《甲办法》和《乙规定》自本办法施行之日起废止。", [("甲办法", "repealed"), ("乙规定", "repealed")]),
    ("国务院决定废止《丙条例》。", [("丙条例", "repealed")]),
    ("国务院决定对《全国年节及纪念日放假办法》作如下修改：", [("全国年节及纪念日放假办法", "amended")]),
    ("依照《中华人民共和国立法法》，修改或废止不相适应的法律规范。", []),
    ("根据《丁法》制定本办法。", []),
])
def test_repeals_and_amendments_named_in_the_text(text, changes):
    validity, found = read_validity("测试", [text])
    assert [(change.title, change.validity) for change in found] == changes and validity == Validity.UNKNOWN


def test_a_stated_validity_wins_and_an_unknown_value_is_ignored():
    assert read_validity("测试", ["本办法自印发之日起施行。"], "已废止")[0] == Validity.REPEALED
    assert read_validity("测试", [], "现行有效")[0] == Validity.VALID
    assert read_validity("测试", [], "尚未确定")[0] == Validity.UNKNOWN
    assert read_validity("国务院关于修改《甲条例》的决定", [])[1] == (Change("甲条例", Validity.AMENDED),)
    assert ingest_file(DATA / "civil_code_excerpt.md").validity == Validity.VALID  # 「2021年1月1日 施行」
