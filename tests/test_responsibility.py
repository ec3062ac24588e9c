"""The responsibility grammar on its own: marker forms seen in the wild, units by their shape, roles,
elided places, distributive names, task tables, and what must stay text. Examples are written like
the real ones (issue 11), never copied from the held-out realworld documents."""

from __future__ import annotations

import pytest

from ingest.departments import Locality, canonical_name, looks_like_unit, split_distributive
from ingest.markers import find_markers
from ingest.normalize import matching_copy
from ingest.parse import parse_document
from ingest.records import LeadBasis, SourceTable, SourceText


def _tasks(text: str, title: str = "苏州市测试实施方案", tables: tuple[SourceTable, ...] = ()):
    source = SourceText(tuple(text.split("\n")), "txt", "utf-8", "0" * 64, "test", {"title": title}, tables)
    return [task for clause in parse_document(source).clauses for task in clause.tasks]


def _roles(text: str, title: str = "苏州市测试实施方案") -> list[tuple[str, str]]:
    (task,) = _tasks("一、任务\n（一）做好工作" + text, title)
    return [(item.name, item.role) for item in task.departments]


FORMS = {
    "groups joined by 、": ("。（省工业和信息化厅牵头、省国资委配合）", [("省工业和信息化厅", "lead"), ("省国资委", "support")]),
    "分工负责": ("。（市工业和信息化局、市商务局分工负责）", [("市工业和信息化局", "lead"), ("市商务局", "co")]),
    "按职能分别负责": ("。（市住房城乡建设局、市水务局按职能分别负责）", [("市住房城乡建设局", "lead"), ("市水务局", "co")]),
    "an unknown unit": ("。（市商务局、苏州海关等按职责分工负责）", [("市商务局", "lead"), ("苏州海关", "co")]),
    "labelled groups": ("。（牵头单位：市科创局；责任单位：市发改委、市经信局，相关区人民政府〈含开发区〉）",
                        [("市科创局", "lead"), ("市发改委", "co"), ("市经信局", "co"), ("相关区人民政府", "co")]),
    "groups after a comma": ("。（市交通运输局牵头，市发展改革委，广铁集团、民航中南管理局配合）",
                             [("市交通运输局", "lead"), ("市发展改革委", "support"), ("广铁集团", "support"),
                              ("民航中南管理局", "support")]),
    "square brackets": ("。〔责任单位：市经信局、市发改委〕", [("市经信局", "lead"), ("市发改委", "co")]),
    "labelled with a deadline": ("。（责任单位：市发展改革委；完成时限：2023年6月）", [("市发展改革委", "lead")]),
    "指导 and 组织实施": ("。（市住房城乡建设委、市民政局按照职责分工指导推动，各区人民政府组织实施）",
                      [("市住房城乡建设委", "lead"), ("市民政局", "co"), ("各区人民政府", "co")]),
}


@pytest.mark.parametrize("name", sorted(FORMS))
def test_marker_forms_in_the_wild(name):
    text, expected = FORMS[name]
    assert _roles(text) == expected


def test_a_deadline_inside_a_marker_is_kept():
    (task,) = _tasks("一、任务\n（一）做好工作。（责任单位：市发展改革委；完成时限：2023年6月）")
    assert task.kind == "labelled" and task.deadline == "2023年6月"


def test_labelled_lines_after_a_task():
    text = ("一、任务\n（一）扩大森林面积。完成造林10万亩。\n牵头单位：市林业局\n责任单位：市自然资源局、财政局、\n"
            "各县（市、区）人民政府\n完成时限：2025年底前\n（二）下一项。")
    (task,) = _tasks(text)
    assert task.kind == "line" and task.text.startswith("扩大森林面积") and task.deadline == "2025年底前"
    assert [(item.name, item.role) for item in task.departments] == [
        ("市林业局", "lead"), ("市自然资源局", "co"), ("财政局", "co"), ("各县（市、区）人民政府", "co")]
    assert task.departments[0].lead_basis is LeadBasis.STATED


def test_in_sentence_assignments():
    (task,) = _tasks("一、任务\n（一）制定办法。由市发展改革委牵头，会同市财政局、市统计局研究制定考核办法。其他工作。")
    assert task.kind == "sentence" and task.text.startswith("由市发展改革委牵头")
    assert [(item.name, item.role) for item in task.departments] == [
        ("市发展改革委", "lead"), ("市财政局", "support"), ("市统计局", "support")]
    subject, = _tasks("一、任务\n（一）工作。市生态环境局对评估工作负总责，其他成员单位按职责承担具体工作。")
    assert [(item.name, item.role) for item in subject.departments] == [("市生态环境局", "lead"), ("其他成员单位", "co")]


SENTENCES = {
    "会同 partners before any verb phrase": ("区民政局要会同有关部门和单位细化帮扶措施。",
                                           [("区民政局", "lead"), ("有关部门和单位", "support")]),
    "会同 partners before a verb": ("省教育厅会同省财政厅、省人力资源社会保障厅研究出台实施细则。",
                                  [("省教育厅", "lead"), ("省财政厅", "support"), ("省人力资源社会保障厅", "support")]),
    "发挥…作用，会同": ("市商务局发挥牵头抓总作用，会同有关部门建立工作台账。", [("市商务局", "lead"), ("有关部门", "support")]),
    "A牵头、B共同参与 with 牵头 in a name": ("区人民医院牵头、各社区卫生服务中心共同参与，组建健康管理团队。",
                                        [("区人民医院", "lead"), ("各社区卫生服务中心", "support")]),
    "a name holding 牵头": ("片区牵头医院牵头，成员单位参与，建立转诊通道。", [("片区牵头医院", "lead"), ("成员单位", "support")]),
    "具体负责": ("办公室设在区财政局，预算股具体负责日常联络工作。", [("预算股", "lead")]),
}


@pytest.mark.parametrize("name", sorted(SENTENCES))
def test_assignments_in_running_text(name):
    text, expected = SENTENCES[name]
    (task,) = _tasks("一、任务\n（一）工作。" + text)
    assert task.kind == "sentence" and [(item.name, item.role) for item in task.departments] == expected


def test_a_bare_list_of_units_closes_a_measure_but_not_a_title():
    tasks = _tasks("一、任务\n（一）完善补助政策。（区财政局、区农业农村局）\n（二）落实《关于做好工作的通知》（国家发展改革委、财政部）要求。")
    assert [(task.kind, [(item.name, item.role, item.lead_basis) for item in task.departments]) for task in tasks] == [
        ("paren", [("区财政局", "lead", LeadBasis.PRESUMED), ("区农业农村局", "co", None)])]


def test_a_lead_rule_in_brackets_after_a_line():
    tasks = _tasks("一、任务\n（一）扩大绿地面积。\n责任单位：市园林局、市规划局（列第一位者为牵头单位，下同）\n"
                   "（二）修复河道。\n责任单位：市水务局、市生态环境局\n（三）其他。")
    assert [[(item.name, item.role, item.lead_basis) for item in task.departments] for task in tasks] == [
        [("市园林局", "lead", LeadBasis.RULE), ("市规划局", "co", None)],
        [("市水务局", "lead", LeadBasis.RULE), ("市生态环境局", "co", None)]]


def test_a_line_after_a_half_width_period_and_plants_as_units():
    (task,) = _tasks("一、任务\n（一）报送数据（按季度）.责任处室：规划处完成时限：2022年6月底前\n"
                     "（二）改造锅炉。〔责任单位：市经信局、华能热电厂〕")[:1]
    assert task.kind == "line" and [item.name for item in task.departments] == ["规划处"]
    assert [item.name for item in _tasks("一、任务\n（一）改造锅炉。〔责任单位：市经信局、华能热电厂〕")[0].departments] == [
        "市经信局", "华能热电厂"]


def test_layout_debris_of_a_pdf_line_is_no_part_of_a_unit_name():
    (task,) = _tasks("一、任务\n（一）推行PPP模式。（责任单位：市财政局、\nＰＰＰ\n市发改委）")
    assert [item.name for item in task.departments] == ["市财政局", "市发改委"]


def test_a_closing_marker_covers_its_measure_around_a_sentence_marker():
    tasks = _tasks("一、任务\n（一）摸清底数。由市统计局牵头负责数据填报。全面核算排放。（牵头单位：市发改委；责任单位：市统计局）")
    assert [task.kind for task in tasks] == ["sentence", "labelled"]
    assert tasks[1].text.startswith("摸清底数") and "全面核算排放" in tasks[1].text


def test_duty_paragraphs():
    tasks = _tasks("四、责任分工\n区商务委：负责牵头组织开展专项行动。\n区公安局：负责依法打击违法犯罪行为。\n工作目标：到2025年完成。")
    assert [(task.kind, task.departments[0].name) for task in tasks] == [("duty", "区商务委"), ("duty", "区公安局")]


def test_a_duty_paragraph_says_its_role_first():
    tasks = _tasks("四、职责分工\n（一）县发展改革局：牵头制定年度计划。\n2.县财政局：配合做好资金保障。\n"
                   "县应急管理局：对企业储存行为进行检查。\n联系电话：12345。")
    assert [(task.kind, [(item.name, item.role, item.lead_basis) for item in task.departments]) for task in tasks] == [
        ("duty", [("县发展改革局", "lead", LeadBasis.STATED)]), ("duty", [("县财政局", "support", None)]),
        ("duty", [("县应急管理局", "lead", LeadBasis.PRESUMED)])]


@pytest.mark.parametrize("text", [
    "。（以下简称市发改委）", "。（2023—2025年）", "。（含开发区、风景区）", "。（试行）", "。（北京、上海）",
    "。（银行）", "。（办公室）", "。（研究院）",
    "。（企业直接向国家发展改革委申报，不需省级发展改革部门转报）",
    "经费由区财政全额负担。", "健全生产经营单位负责、职工参与的工作机制。", "由地方统筹安排。",
    "分别负责管理（技工院校内由人力资源社会保障行政部门负责），国务院",
])
def test_not_markers(text):
    assert find_markers(text, matching_copy(text)) == []


def test_units_by_the_shape_of_their_names():
    for name in ("苏州海关", "广铁集团", "民航中南管理局", "市委组织部", "区政策研究室", "投资规划股", "国网苏州供电公司",
                 "团市委", "市妇联", "市科协", "各县（市、区）人民政府", "人行苏州中心支行"):
        assert looks_like_unit(name), name
    for name in ("健全生产经营单位", "2025年", "加强统筹", "企业", "的部门"):
        assert not looks_like_unit(name), name


def test_distributive_names_are_expanded():
    assert split_distributive(["广州", "深圳市人民政府"]) == ["广州市人民政府", "深圳市人民政府"]
    assert split_distributive(["武昌区", "江夏区人民政府"]) == ["武昌区人民政府", "江夏区人民政府"]
    assert split_distributive(["市发改委", "市财政局"]) == ["市发改委", "市财政局"]


def test_elided_places_belong_to_the_unit_before_or_to_the_document():
    sichuan = Locality(province="四川省")
    assert canonical_name("科技厅", sichuan, "省") == ("四川省科学技术厅", "provincial")
    assert canonical_name("能源局", sichuan)[1] == "provincial"  # not 国家能源局 in a provincial plan
    assert canonical_name("能源局", Locality()) == ("国家能源局", "national")
    assert canonical_name("科技部", sichuan)[1] == "national"  # national by its shape
    assert canonical_name("苏州海关", Locality(city="苏州市"))[0] == "苏州海关"  # a body with a place of its own
    roles = _tasks("一、任务\n（一）工作。（省发展改革委、科技厅、能源局按职责分工负责）", "四川省测试实施意见")[0].departments
    assert [item.level for item in roles] == ["provincial"] * 3


def test_a_rule_per_jurisdiction():
    text = ("一、任务\n（一）甲。（责任单位：重庆市能源局、市经济信息委；四川省能源局、经济和信息化厅；两省市列首位的为牵头单位，下同）\n"
            "（二）乙。（责任单位：重庆市发展改革委；四川省发展改革委、能源局）")
    first, second = _tasks(text, "重庆市人民政府办公厅 四川省人民政府办公厅关于印发联合行动方案的通知")
    assert [item.name for item in first.departments if item.role == "lead"] == ["重庆市能源局", "四川省能源局"]
    assert [item.name for item in second.departments if item.role == "lead"] == ["重庆市发展改革委", "四川省发展改革委"]
    assert {item.lead_basis for item in second.departments if item.role == "lead"} == {LeadBasis.RULE}
    assert second.departments[-1].canonical.startswith("四川省")


def test_task_table_rows_become_tasks():
    rows = (("序号", "重点任务", "牵头单位", "配合单位", "完成时限"),
            ("1", "推进家庭医生签约服务", "市卫生健康委", "市医保局、市财政局", "2024年底"),
            ("2", "优化双向转诊服务", "市卫生健康委", "各区人民政府", ""),
            ("序号", "重点任务", "牵头单位", "配合单位", "完成时限"),  # the header repeated on the next page
            ("3", "加强人才队伍建设", "市人力资源社会保障局", "", "持续推进"))
    blocks = "\n".join("　".join(row) for row in rows)
    text = f"一、工作任务\n（一）做好签约。（市卫生健康委负责）\n附件：重点任务分工表\n{blocks}"
    tasks = _tasks(text, "苏州市测试实施方案", (SourceTable(rows, 3, 3 + len(rows)),))
    table = [task for task in tasks if task.kind == "table"]
    assert [task.text for task in table] == ["推进家庭医生签约服务", "优化双向转诊服务", "加强人才队伍建设"]
    assert [(item.name, item.role) for item in table[0].departments] == [
        ("市卫生健康委", "lead"), ("市医保局", "support"), ("市财政局", "support")]
    assert table[0].deadline == "2024年底" and table[0].departments[0].lead_basis is LeadBasis.STATED
    assert [task.kind for task in tasks].count("paren") == 1  # the body's marker; rows are not read as markers


def test_a_table_that_is_not_a_task_table_stays_text():
    rows = (("指标", "2020年", "2025年"), ("单位GDP能耗下降", "—", "13.5%"))
    text = "一、目标\n（一）指标。\n" + "\n".join("　".join(row) for row in rows)
    assert _tasks(text, "苏州市测试实施方案", (SourceTable(rows, 2, 4),)) == []


def test_leads_say_where_they_came_from():
    stated, presumed = _tasks("一、任务\n（一）甲。（市发改委牵头，市财政局配合）\n（二）乙。（市发改委、市财政局按职责分工负责）")
    assert stated.departments[0].lead_basis is LeadBasis.STATED
    assert presumed.departments[0].lead_basis is LeadBasis.PRESUMED and presumed.departments[1].lead_basis is None


def test_a_lead_rule_stated_outside_markers_applies_to_later_ones():
    text = ("一、任务\n（一）甲。\n责任单位：市发改委、市财政局\n（二）乙。（列第一位者为牵头单位，下同）\n"
            "责任单位：市统计局、市财政局\n（三）丙。\n责任单位：市商务局")
    first, second, third = _tasks(text)
    assert first.departments[0].lead_basis is LeadBasis.PRESUMED
    assert second.departments[0].lead_basis is LeadBasis.RULE and third.departments[0].lead_basis is LeadBasis.RULE


def test_text_that_lost_its_line_breaks_is_cut_at_its_headings():
    flat = ("测试实施方案 一、总体要求 坚持系统观念。二、重点任务 （一）推进节能。加强管理。（市发改委牵头，市财政局配合）"
            "（二）推进降碳。加快转型。（市生态环境局负责）三、保障措施 加强领导。")
    source = SourceText((flat,), "txt", "utf-8", "0" * 64, "test", {"title": "苏州市测试实施方案"})
    clauses = parse_document(source).clauses
    assert [clause.path for clause in clauses if clause.kind != "preamble"] == [
        ("s1",), ("s2",), ("s2", "p1"), ("s2", "p2"), ("s3",)]
    assert [task.departments[0].name for clause in clauses for task in clause.tasks] == ["市发改委", "市生态环境局"]


def test_inline_enumerations_of_a_normal_document_stay_whole():
    text = ("一、任务\n（一）评价内容包括：（1）配置人员；（2）配置场地；（3）定期检测。\n（二）评价方法。\n二、保障\n（一）加强领导。")
    source = SourceText(tuple(text.split("\n")), "txt", "utf-8", "0" * 64, "test", {"title": "测试方案"})
    assert [clause.path for clause in parse_document(source).clauses] == [
        ("s1",), ("s1", "p1"), ("s1", "p2"), ("s2",), ("s2", "p1")]


# Assignments written in running text, without brackets (examples written like real plans' sentences).
UNBRACKETED = {
    "a closing sentence": ("推进老旧小区改造。由市农业农村局、市水务局按职责分工负责。",
                           [[("市农业农村局", "lead"), ("市水务局", "co")]]),
    "lead then support with 分工": ("开展专项检查。市商务局牵头负责，市市场监管局、市税务局等部门按职责分工配合。",
                                   [[("市商务局", "lead"), ("市市场监管局", "support"), ("市税务局", "support")]]),
    "上述工作由": ("加强成品油市场整治。上述工作由区商务委牵头，区公安分局、区市场监管局等部门按照职责分工共同推进。",
                  [[("区商务委", "lead"), ("区公安分局", "co"), ("区市场监管局", "co")]]),
    "依职责": ("做好绿化养护。市城管委、市园林绿化局依职责负责。", [[("市城管委", "lead"), ("市园林绿化局", "co")]]),
    "a modal before 牵头": ("区商务局要牵头做好成品油市场整治工作。", [[("区商务局", "lead")]]),
    "由…具体负责": ("此项工作由区应急管理局具体负责。", [[("区应急管理局", "lead")]]),
    "a first clause, then 会同": ("市卫生健康委要加强统筹，会同市医保局、市财政局完善筹资机制。",
                                [[("市卫生健康委", "lead"), ("市医保局", "support"), ("市财政局", "support")]]),
    "联合 with partners": ("省科技厅联合省教育厅开展科技人才专项行动。", [[("省科技厅", "lead"), ("省教育厅", "support")]]),
    "labels with 为": ("建立监测平台。牵头单位为市经信局，配合单位为市发改委。",
                      [[("市经信局", "lead"), ("市发改委", "support")]]),
    "由A会同B": ("由市发展改革委会同市财政局制定具体办法。", [[("市发展改革委", "lead"), ("市财政局", "support")]]),
    "由A牵头、B参与的": ("建立由市发改委牵头、相关部门参与的工作机制。", [[("市发改委", "lead"), ("相关部门", "support")]]),
    "A牵头，会同B组织实施": ("相关工作由市商务局牵头，会同市公安局等部门组织实施。", [[("市商务局", "lead"), ("市公安局", "support")]]),
    "a unit with its alias": ("由市发展改革委（市能源局）牵头，会同市财政局制定实施细则。",
                              [[("市发展改革委（市能源局）", "lead"), ("市财政局", "support")]]),
    "A为牵头单位，B为配合单位": ("市住建局为牵头单位，市财政局为配合单位。", [[("市住建局", "lead"), ("市财政局", "support")]]),
    "履行牵头职责": ("市发改委要切实履行牵头职责，统筹推进。", [[("市发改委", "lead")]]),
    "作为牵头单位": ("市发改委作为牵头单位，负责统筹协调。", [[("市发改委", "lead")]]),
    "two duties of one sentence": ("市统计局负责能源数据的统计和发布，市发改委负责碳排放核算。",
                                  [[("市统计局", "lead")], [("市发改委", "lead")]]),
}


@pytest.mark.parametrize("name", sorted(UNBRACKETED))
def test_unbracketed_form(name):
    text, expected = UNBRACKETED[name]
    tasks = _tasks("一、任务\n（一）做好工作。" + text)
    assert [[(item.name, item.role) for item in task.departments] for task in tasks] == expected


def test_two_duties_of_one_sentence_each_keep_their_part():
    first, second = _tasks("一、任务\n（一）市统计局负责能源数据的统计和发布，市发改委负责碳排放核算。")
    assert "碳排放" not in first.text and second.text.startswith("市发改委负责碳排放核算")


@pytest.mark.parametrize("text", [
    "市财政局要加大资金支持力度，保障工作经费。",
    "各有关部门要按照职责分工，抓好贯彻落实。",
    "市发展改革委、市生态环境局要加强统筹协调，定期调度工作进展。",
    "市发展改革委、市财政局联合印发通知。",
    "建立工作专班，由区政府分管领导任组长。",
])
def test_running_text_without_a_role_stays_text(text):
    assert _tasks("一、任务\n（一）" + text) == []


@pytest.mark.parametrize("note", ["注：各项任务中排名第一的为牵头单位。", "备注：第一个单位为牵头单位。"])
def test_a_note_states_the_lead_rule_for_the_whole_document(note):
    (task,) = _tasks(f"一、任务\n（一）做好工作。（市发改委、市财政局负责）\n{note}")
    assert task.departments[0].lead_basis is LeadBasis.RULE


def test_a_local_rule_article_duties_are_tasks_but_a_national_law_keeps_them_whole():
    text = "第一章 总则\n第一条 为了促进绿色发展，制定本办法。\n第二条 区发展改革部门负责兑现第三条，区水务部门负责兑现第四条。"
    assert [task.departments[0].name for task in _tasks(text, "广州市黄埔区促进绿色低碳发展办法")] == \
        ["区发展改革部门", "区水务部门"]
    law = "第一章 总则\n第一条 为了规范管理，制定本法。\n第二条 国务院生态环境主管部门负责全国的监督管理工作。"
    assert _tasks(law, "中华人民共和国测试法") == []


def test_duties_under_a_unit_standing_alone_and_after_a_full_stop():
    text = ("一、职责分工\n（一）区市场监管局。负责加油站计量器具的监督检查。\n（二）区应急局职责：负责经营许可的审查。\n"
            "二、成员单位职责\n区公安分局：\n负责依法打击违法犯罪行为。\n负责涉案油品的查扣。\n区税务局：\n负责税收征管。")
    tasks = _tasks(text, "重庆市綦江区测试专项行动方案")
    assert [(task.departments[0].name, task.text) for task in tasks] == [
        ("区市场监管局", "负责加油站计量器具的监督检查。"), ("区应急局", "负责经营许可的审查。"),
        ("区公安分局", "负责依法打击违法犯罪行为。\n负责涉案油品的查扣。"), ("区税务局", "负责税收征管。")]


@pytest.mark.parametrize("text", ["（一）培育绿色低碳科技领军企业。支持创新基础好的企业发展。",
                                  "各区人民政府：\n根据国务院要求，现将方案印发给你们。"])
def test_a_run_in_title_or_a_salutation_is_not_a_duty(text):
    assert _tasks("一、任务\n" + text) == []


@pytest.mark.parametrize("lines, expected", [
    ("责任单位：市住建局（牵头）、市发改委", [("市住建局", "lead"), ("市发改委", "co")]),
    ("主要责任单位：市工信局、市住建局", [("市工信局", "lead"), ("市住建局", "co")]),
    ("牵头部门（单位）：市住建局\n配合部门（单位）：市财政局", [("市住建局", "lead"), ("市财政局", "support")]),
    ("责任主体：各区人民政府", [("各区人民政府", "lead")]),
])
def test_label_lines_in_more_wordings(lines, expected):
    (task,) = _tasks(f"一、任务\n（一）推进绿色建筑。\n{lines}")
    assert [(item.name, item.role) for item in task.departments] == expected


def test_a_table_header_rule_a_noted_role_and_a_column_of_people():
    rows = (("序号", "工作任务", "责任单位（排在第一位的为牵头单位，下同）", "责任领导", "时间节点"),
            ("1", "推进绿色建筑", "市住建局、市发改委（配合）", "张三", "2025年"))
    text = "一、工作任务\n附件：重点任务分工表\n" + "\n".join("　".join(row) for row in rows)
    (task,) = [task for task in _tasks(text, "苏州市测试实施方案", (SourceTable(rows, 2, 2 + len(rows)),))
               if task.kind == "table"]
    assert [(item.name, item.role) for item in task.departments] == [("市住建局", "lead"), ("市发改委", "support")]
    assert task.departments[0].lead_basis is LeadBasis.RULE


@pytest.mark.parametrize("marker, expected", [
    ("【牵头单位】市住建局【配合单位】市财政局", [("市住建局", "lead"), ("市财政局", "support")]),
    ("（市委组织部、市人社局，各县（市、区）党委和政府）", [("市委组织部", "lead"), ("市人社局", "co"),
                                                ("各县（市、区）党委和政府", "co")]),
    ("（市发改委 市财政局 市统计局按职责分工负责）", [("市发改委", "lead"), ("市财政局", "co"), ("市统计局", "co")]),
    ("（市商务局会同市财政局负责）", [("市商务局", "lead"), ("市财政局", "support")]),
    ("（市发改委统筹，各区政府负责实施）", [("市发改委", "lead"), ("各区政府", "co")]),
    ("（市城市管理局、各区政府〈管委会〉负责）", [("市城市管理局", "lead"), ("各区政府〈管委会〉", "co")]),
    ("（市发展改革委〔市能源局〕、市工业和信息化局负责）", [("市发展改革委〔市能源局〕", "lead"), ("市工业和信息化局", "co")]),
])
def test_closing_markers_in_more_wordings(marker, expected):
    (task,) = _tasks(f"一、任务\n（一）推进绿色建筑。{marker}")
    assert [(item.name, item.role) for item in task.departments] == expected


def test_a_label_line_in_text_that_lost_its_line_breaks_ends_at_the_prose():
    text = ("一、任务 （一）提升社会公众的碳汇意识。 牵头单位：市林业局 责任单位：市委宣传部，市发改委、科协 "
            "本通知自印发之日起实施。")
    (task,) = _tasks(text, "三明市测试通知")
    assert [item.name for item in task.departments] == ["市林业局", "市委宣传部", "市发改委", "科协"]
