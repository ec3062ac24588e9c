"""The layout of a 公文 (GB/T 9704): the red masthead, 份号/密级/紧急程度, the 文号 line with 签发人, and the
closing 抄送/印发 block are front and back matter, never a title or a measure; each pattern by name."""

from __future__ import annotations

import pytest

from ingest import ingest_file
from ingest.frontmatter import doc_number_line, furniture_patterns, is_noise
from ingest.normalize import compact
from render import render_docx, render_official_pdf

GONGWEN = [
    "000123",
    "机密★1年",
    "特急",
    "武汉市人民政府文件",
    "武政〔2022〕11号　　签发人：张三",
    "武汉市人民政府关于印发武汉市绿色低碳循环发展经济体系实施方案的通知",
    "各区人民政府，市人民政府各部门：",
    "现将《武汉市绿色低碳循环发展经济体系实施方案》印发给你们，请认真组织实施。",
    "武汉市人民政府",
    "2022年5月1日",
    "（此件公开发布）",
    "武汉市绿色低碳循环发展经济体系实施方案",
    "一、重点任务",
    "（一）推进工业绿色升级。实施钢铁、石化、建材等重点行业节能降碳改造，推广先进适用的绿色低碳技术装备，"
    "培育一批绿色工厂和绿色园区，推动工业固体废物综合利用，到2025年规模以上工业单位增加值能耗下降"
    "百分之十四。（市经信局牵头，市发改委配合）",
    "（二）发展绿色建筑。新建建筑全面执行绿色建筑标准，推进既有建筑节能改造，推广装配式建筑和绿色建材，"
    "开展超低能耗建筑和近零能耗建筑示范，提升城镇建筑可再生能源替代率。（市城建局负责）",
    *[f"（{number}）完善第{number}项保障措施。健全工作机制，明确责任分工，加强统筹协调和督促检查，定期调度工作进展，"
      "及时研究解决实施中遇到的困难和问题，确保各项任务按期完成并取得实效。（市生态环境局负责）"
      for number in "三四五六七八"],
    "抄送：市委各部门，市人大常委会办公厅，市政协办公厅，市法院，市检察院。",
    "武汉市人民政府办公厅　　　　2022年5月7日印发",
]

FURNITURE = {
    "masthead": ["武汉市人民政府文件", "湖北省生态环境厅文件", "武汉市生态环境局武汉市发展和改革委员会文件", "国务院办公厅函"],
    "copy_number": ["000123", "份号：000045"],
    "secrecy": ["机密★1年", "秘密", "机密★1年特急"],
    "urgency": ["特急", "加急"],
    "signer": ["签发人：张三", "签发人：张三　李四"],
    "copied_to": ["抄送：市委各部门，市人大常委会办公厅。", "抄报：省人民政府办公厅。"],
    "printed": ["武汉市人民政府办公厅　　2022年5月7日印发", "2022年5月7日印发"],
    "contact": ["（联系人：张三，联系电话：12345678）"],
}
NOT_FURNITURE = ["关于加快南货场铁路涵洞下穿建设的函", "武汉市人民政府关于印发实施方案的通知", "武汉市人民政府",
                 "（一）加强文件管理。", "2022年5月1日", "抄送单位应当及时反馈。"]


@pytest.mark.parametrize("name", sorted(FURNITURE))
def test_each_furniture_pattern(name):
    pattern = dict(furniture_patterns())[name]
    for line in FURNITURE[name]:
        assert pattern.search(compact(line)), (name, line)
        assert is_noise(line), line


def test_lines_that_are_not_furniture():
    assert not any(is_noise(line) for line in NOT_FURNITURE)


def test_doc_number_line_with_the_signer():
    assert doc_number_line("武政〔2022〕11号　　签发人：张三") == "武政〔2022〕11号"
    assert doc_number_line("国发〔2019〕3号") == "国发〔2019〕3号"
    assert doc_number_line("签发人：张三") == ""


def check(document):
    assert document.title == "武汉市绿色低碳循环发展经济体系实施方案"
    assert document.doc_number == "武政〔2022〕11号" and document.date == "2022-05-01"
    measures = [clause for clause in document.clauses if clause.kind == "item"]
    assert len(measures) == 8 and measures[-1].text.endswith("（市生态环境局负责）")
    text = "".join(clause.text for clause in document.clauses)
    for furniture in ("抄送", "2022年5月7日印发", "人民政府文件", "签发人", "000123", "机密", "特急"):
        assert furniture not in text, furniture
    assert measures[0].tasks[0].departments[0].name == "市经信局"


def test_a_gongwen_in_text(tmp_path):
    path = tmp_path / "gongwen.txt"
    path.write_text("\n".join(GONGWEN), encoding="utf-8")
    check(ingest_file(path))


def test_a_gongwen_in_the_official_pdf_layout(tmp_path):
    check(ingest_file(render_official_pdf(GONGWEN, tmp_path / "gongwen.pdf", "武汉市人民政府文件")))


def test_a_gongwen_in_docx(tmp_path):
    check(ingest_file(render_docx(GONGWEN, tmp_path / "gongwen.docx", "")))
