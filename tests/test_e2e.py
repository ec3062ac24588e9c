"""End to end: a real `policykb serve` process, driven by Debian's Chromium through Playwright.

Search, click a facet, open a clause permalink, open a department page, download the task table.
Screenshots go to tests/artifacts/ (ignored by git) for a person to look at.
"""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path
from urllib.parse import unquote

import openpyxl
import pytest

from conftest import PLANS, SEED, build_home, serving
from test_api import TOKEN
from test_pages import contrast_ratio

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
SEED_ID = "武汉市减污降碳协同增效实施方案"
pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.skip("没有 /usr/bin/chromium：端到端测试需要 Debian 的 chromium 包（make test 会安装）")
    home = build_home(tmp_path_factory.mktemp("e2e"), [SEED, *PLANS])
    with serving(home, POLICYKB_TOKEN=TOKEN, POLICYKB_EMBED_IN_BACKGROUND="false") as base:
        yield base


@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def page(browser, server):
    context = browser.new_context(base_url=server, accept_downloads=True, viewport={"width": 1280, "height": 900},
                                  locale="zh-CN")
    yield context.new_page()
    context.close()


@pytest.fixture()
def sized(browser, server):
    """A fresh page at a given viewport: sized(1440, 900) for a desktop, sized(390, 844) for a phone."""
    contexts = []

    def open_page(width: int, height: int, **options):
        contexts.append(browser.new_context(base_url=server, viewport={"width": width, "height": height},
                                            locale="zh-CN", **options))
        return contexts[-1].new_page()

    yield open_page
    for context in contexts:
        context.close()


def test_search_facet_permalink_department_and_export(page, tmp_path):
    page.goto("/")
    page.fill("input[name=q]", "谁负责污泥处置？")
    page.press("input[name=q]", "Enter")
    page.wait_for_selector("li.hit")
    assert "q=" in page.url and "污泥" in page.inner_text("li.hit >> nth=0")
    page.screenshot(path=ARTIFACTS / "1-search.png", full_page=True)

    first_hits = page.locator("li.hit").count()
    page.click("a.facet[data-facet=doc] >> nth=0")
    page.wait_for_selector(".active-filters")
    assert "doc=" in page.url and page.locator("li.hit").count() <= first_hits
    titles = {page.inner_text(f"li.hit >> nth={i} >> .where a") for i in range(page.locator("li.hit").count())}
    assert len(titles) == 1
    page.screenshot(path=ARTIFACTS / "2-facet.png", full_page=True)

    page.click("li.hit >> nth=0 >> a.permalink")
    page.wait_for_selector("article.clause")
    assert "/clauses/" in page.url and "永久链接" in page.inner_text("article.clause")
    permalink = page.url
    page.screenshot(path=ARTIFACTS / "3-clause.png", full_page=True)
    page.goto(permalink)  # the permalink opens by itself
    assert page.locator("article.clause h1").count() == 1

    page.goto("/departments/市发改委")
    assert "武汉市发展和改革委员会" in page.inner_text("h1")
    assert "国家发展和改革委员会" in page.inner_text(".counterparts")
    page.screenshot(path=ARTIFACTS / "4-department.png", full_page=True)
    page.click(".counterparts a >> nth=0")
    page.wait_for_url("**/departments/**")
    assert "国家发展和改革委员会" in page.inner_text("h1")

    page.goto(f"/documents/{SEED_ID}")
    assert page.locator("table.matrix td.role-lead").count() >= 23
    page.screenshot(path=ARTIFACTS / "5-document.png", full_page=True)
    with page.expect_download() as download_info:
        page.click("#export-xlsx")
    saved = tmp_path / download_info.value.suggested_filename
    download_info.value.save_as(saved)
    assert saved.name.endswith("督查台账.xlsx")
    rows = list(openpyxl.load_workbook(io.BytesIO(saved.read_bytes())).active.values)
    assert rows[1][:4] == ("序号", "条款", "重点任务", "牵头单位") and len(rows) == 25  # caption, header, 23 tasks


def test_upload_page_with_token(page):
    page.goto("/upload")
    page.set_input_files("input[name=file]", files=[{"name": "社区垃圾分类.txt", "mimeType": "text/plain",
                                                      "buffer": "关于推进社区垃圾分类工作的实施方案\n\n一、重点任务\n（一）推进垃圾分类。"
                                                                "在全市社区设置分类投放点。（市城管执法委牵头）\n".encode()}])
    page.fill("input[name=token]", "wrong")
    page.click("form#upload button")
    page.wait_for_selector("#upload-result.error")
    assert "令牌" in page.inner_text("#upload-result")
    page.fill("input[name=token]", TOKEN)
    page.click("form#upload button")
    page.wait_for_selector("#upload-result a")
    assert "已导入" in page.inner_text("#upload-result")
    page.screenshot(path=ARTIFACTS / "6-upload.png", full_page=True)
    page.click("#upload-result a")
    page.wait_for_selector("h1")
    assert "社区垃圾分类" in page.inner_text("h1")


# -- issue 16, layout: focus order, phone width, citations, print ----------------------------------

QUESTION = "/?q=" + "谁负责污泥处置？"
TOP = "(selector) => document.querySelector(selector).getBoundingClientRect().top + window.scrollY"


def tabs_until(page, condition: str, limit: int = 80) -> int:
    """Tab presses until `condition` (a JS expression) holds; `limit` + 1 when it never does."""
    for presses in range(limit + 1):
        if page.evaluate(condition):
            return presses
        page.keyboard.press("Tab")
    return limit + 1


def test_a_skip_link_brings_the_keyboard_to_the_first_result(sized):
    page = sized(1440, 900)
    page.goto(QUESTION)
    page.wait_for_selector("li.hit")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip" and page.is_visible("a.skip")
    assert page.evaluate("document.activeElement.textContent") == "跳到主要内容"
    page.keyboard.press("Enter")  # the answer block comes first, then the results
    assert tabs_until(page, "!!document.activeElement.closest('section.answer')") <= 2
    assert tabs_until(page, "!!document.activeElement.closest('section.answer, li.hit')") <= 5
    page.goto(QUESTION)  # without the skip link: past the header (brand, search box, button, four links)
    assert tabs_until(page, "!!document.activeElement.closest('section.answer, li.hit')") <= 12
    page.screenshot(path=ARTIFACTS / "7-search-1440.png")


def test_on_a_phone_results_come_first_the_outline_folds_and_the_matrix_scrolls_in_its_box(sized):
    page = sized(390, 844)
    page.goto(QUESTION)
    page.wait_for_selector("li.hit")
    assert page.evaluate(TOP, "li.hit") < min(844, page.evaluate(TOP, "aside.facets"))
    page.screenshot(path=ARTIFACTS / "8-search-390.png")
    chip = page.locator(".chip.role-lead").first
    assert chip.inner_text().startswith("牵头")
    for each in page.locator(".chip").all()[:12]:  # the colours as drawn, not as written in the stylesheet
        colour, background = each.evaluate("(e) => [getComputedStyle(e).color, getComputedStyle(e).backgroundColor]")
        assert contrast_ratio(colour, background) >= 4.5, (each.inner_text(), colour, background)

    page.goto(f"/documents/{SEED_ID}")
    assert page.evaluate("document.querySelector('details.outline').open") is False
    assert page.evaluate(TOP, "table.matrix") >= page.evaluate(
        "document.querySelector('details.outline').getBoundingClientRect().bottom + window.scrollY")
    box = page.evaluate("[...['.matrix-wrap'].map((s) => document.querySelector(s)).flatMap((e) => "
                        "[e.scrollWidth, e.clientWidth]), document.documentElement.scrollWidth]")
    assert box[0] > box[1] and box[2] <= 390  # the matrix scrolls inside its box; the page does not
    page.screenshot(path=ARTIFACTS / "9-document-390.png", full_page=True)
    page.click("details.outline summary")
    assert page.locator("details.outline li").first.is_visible()


def test_copy_citation_gives_the_title_the_item_and_a_readable_permalink(sized, server):
    page = sized(1440, 900, permissions=["clipboard-read", "clipboard-write"])
    page.goto(f"/clauses/{SEED_ID}.s4.p12")
    page.click("button.copy[data-copy-from=citation]")
    page.wait_for_function("document.querySelector('button.copy[data-copy-from=citation]').textContent === '已复制'")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert re.fullmatch(rf"《武汉市减污降碳协同增效实施方案》第（[一二三四五六七八九十]+）项 {re.escape(server)}/clauses/{SEED_ID}\.s4\.p12",
                        copied), copied
    assert copied == page.input_value("#citation")
    page.screenshot(path=ARTIFACTS / "10-clause-1440.png")

    bare = sized(390, 844)  # no clipboard API (plain http on an intranet): the text is selected for Ctrl+C
    bare.add_init_script("Object.defineProperty(Navigator.prototype, 'clipboard', {get: () => undefined})")
    bare.goto(f"/clauses/{SEED_ID}.s4.p12")
    bare.click("button.copy[data-copy-from=citation]")
    assert "Ctrl+C" in bare.inner_text("#copy-note")
    selected = bare.evaluate("(() => { const field = document.activeElement; "
                             "return field.value.slice(field.selectionStart, field.selectionEnd); })()")
    assert selected == copied
    bare.screenshot(path=ARTIFACTS / "11-clause-390.png", full_page=True)


def test_print_hides_the_search_form_and_prints_the_matrix_whole(sized):
    page = sized(700, 1000)  # about the printable width of A4 portrait
    page.emulate_media(media="print")
    page.goto(QUESTION)
    assert page.is_hidden("header.top .searchbar") and page.is_hidden("aside.facets") and page.is_hidden("footer")
    page.goto(f"/documents/{SEED_ID}")
    assert page.is_hidden("header.top .searchbar") and page.is_hidden("details.outline")
    assert page.is_visible("table.matrix")
    wrap, table, width = page.evaluate("[document.querySelector('.matrix-wrap').getBoundingClientRect().right, "
                                       "document.querySelector('table.matrix').getBoundingClientRect().right, "
                                       "document.documentElement.scrollWidth]")
    assert table <= wrap + 1 and width <= 700, (wrap, table, width)
    assert page.evaluate("getComputedStyle(document.querySelector('.matrix-wrap')).overflowX") == "visible"
    page.pdf(path=ARTIFACTS / "12-document-print.pdf", format="A4")


# -- issue 16: the answer block, level tabs, the department asked about, citations, the documents list ----

def test_the_answer_block_comes_first_with_roles_bases_and_levels(sized):
    for width, height, name in ((1440, 900, "desktop"), (390, 844, "phone")):
        page = sized(width, height)
        page.goto("/?q=" + "武汉市谁负责污泥处置？")
        text = page.inner_text("section.answer")
        assert "「污泥处置」由谁负责" in text and "市生態環境局" in text and "按排序推定" in text
        assert "属地落实" in text and "各區人民政府" in text and "污泥處置" in text
        levels = page.inner_text("section.answer .levels")
        assert levels.index("全国") < levels.index("湖北省") < levels.index("武汉市")
        assert page.evaluate(TOP, "section.answer") < page.evaluate(TOP, "li.hit")
        assert page.evaluate(TOP, "section.answer") < height  # on the first screen, phone included
        page.screenshot(path=ARTIFACTS / f"10-answer-{name}.png")


def test_level_tabs_show_the_same_measure_at_another_level_in_place(sized):
    from playwright.sync_api import expect

    page = sized(1440, 900)
    page.goto("/?q=" + "武汉市谁负责污泥处置？")
    first = page.locator("li.hit").first
    tabs = first.locator("a.level-tab")
    assert [tabs.nth(i).inner_text() for i in range(tabs.count())] == ["全国", "湖北省", "武汉市"]
    assert first.locator("a.level-tab[aria-selected=true]").inner_text() == "武汉市"
    first.locator("a.level-tab", has_text="全国").click()
    expect(first.locator("a.level-tab[aria-selected=true]")).to_have_text("全国")
    expect(first.locator(".where a").first).to_have_text("减污降碳协同增效实施方案")
    assert "生态环境部" in first.locator(".chips").inner_text() and "/clauses/" in page.url + first.locator(
        "h2 a").get_attribute("href")
    page.screenshot(path=ARTIFACTS / "11-level-tab.png")


def test_the_department_asked_about_is_marked_and_citations_say_what_is_missing(sized):
    page = sized(1440, 900)
    page.goto("/?q=" + "市水务局负责哪些任务")
    asked = page.locator(".chip.asked")
    assert asked.count() >= 3 and all("水務局" in asked.nth(i).inner_text() for i in range(asked.count()))
    page.goto("/?q=" + "民法典第三条")
    assert page.inner_text("section.empty h2") == "库中没有《民法典》"
    assert page.input_value("input[name=q]") == "民法典第三条"
    page.goto("/?q=" + "环综合〔2022〕42号")
    assert "《减污降碳协同增效实施方案》" in page.inner_text("p.cited")
    assert {page.inner_text(f"li.hit >> nth={i} >> .where a") for i in range(3)} == {"减污降碳协同增效实施方案"}
    page.goto("/")  # the examples offered are ones this store answers: no 民法典 here
    examples = page.locator("a.example").all_inner_texts()
    assert "民法典第三条" not in examples and "谁负责污泥处置？" in examples


def test_the_documents_list_filters_by_title_or_number_and_level(sized):
    page = sized(390, 844)
    page.goto("/documents")
    assert page.locator("table.list tr").count() >= 4  # header + the three plans (and any upload of the tests above)
    page.fill("form.list-filters input[name=q]", "鄂环发〔2022〕33号")
    page.click("form.list-filters button")
    page.wait_for_url("**/documents?*")
    assert page.locator("table.list tr").count() == 2 and "湖北省" in page.inner_text("table.list")
    page.goto("/documents?level=national")
    assert page.locator("table.list tr").count() == 2
    # on a phone each document is a card whose cells say what they are, and nothing overflows sideways
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.evaluate("getComputedStyle(document.querySelector('td[data-label=\"文号\"]'), '::before').content") \
        == '"文号："'
    page.screenshot(path=ARTIFACTS / "12-documents-phone.png", full_page=True)


def test_the_cross_level_check_shows_no_counterpart_and_what_the_higher_level_has(sized):
    page = sized(1440, 900)
    for _ in range(60):  # computed in the background at start-up; the page says so while it is pending
        page.goto(f"/documents/{SEED_ID}")
        if page.locator("table.crosscheck").count():
            break
        page.wait_for_timeout(500)
    assert page.locator("ul.missing li").count() >= 1 and "上级有、本级无" in page.inner_text("main")
    assert "（二十八）" in page.inner_text("ul.missing")
    page.screenshot(path=ARTIFACTS / "13-crosscheck.png", full_page=True)
    page.goto("/documents/环综合-2022-42")
    page.wait_for_selector("table.crosscheck")
    row = page.locator("table.crosscheck tr", has_text="（二十八）")
    assert "无对应措施" in row.inner_text()


def test_a_new_version_keeps_the_old_one_as_history_with_a_clause_diff(sized):
    page = sized(1440, 900)
    versions = ["关于推进社区厨余垃圾处理的实施方案\n\n一、重点任务\n（一）推进厨余垃圾就地处理。（市城管执法委牵头）\n",
                "关于推进社区厨余垃圾处理的实施方案\n\n一、重点任务\n（一）推进厨余垃圾就地处理和资源化利用。（市城管执法委牵头）\n"
                "（二）建设社区堆肥点。（各区人民政府负责）\n"]
    doc_id = ""
    for number, text in enumerate(versions):
        page.goto("/upload")
        page.set_input_files("input[name=file]", files=[{"name": f"厨余-{number}.txt", "mimeType": "text/plain",
                                                          "buffer": text.encode()}])
        page.fill("input[name=token]", TOKEN)
        if doc_id:
            page.fill("input[name=replace]", doc_id)
        page.click("form#upload button")
        page.wait_for_selector("#upload-result a")
        doc_id = unquote(page.get_attribute("#upload-result a", "href").rsplit("/", 1)[-1])
    page.goto(f"/documents/{doc_id}")  # the document page says what changed, and links to the clause diff
    assert "新增 1 条，删除 0 条，修改 1 条" in page.inner_text("section.changes")
    page.click("section.changes >> text=逐条对比与全部版本")
    page.wait_for_url("**/history")
    changes = page.inner_text("table.diff")
    assert "资源化利用" in changes and "建设社区堆肥点" in changes
    assert page.locator("tr.change-changed").count() >= 1 and page.locator("tr.change-added").count() >= 1
    page.screenshot(path=ARTIFACTS / "14-history.png", full_page=True)


def test_no_clause_found_offers_the_closest_documents_and_a_misspelt_unit_is_corrected(sized):
    page = sized(390, 844)
    page.goto("/?q=" + "2035年煤炭占能源消费的比重要降到多少")
    assert "没有找到" in page.inner_text("section.empty h2") and page.locator("li.hit").count() == 0
    assert "减污降碳协同增效实施方案" in page.inner_text("section.empty")  # the closest documents, apart
    assert page.input_value("input[name=q]") == "2035年煤炭占能源消费的比重要降到多少"
    page.screenshot(path=ARTIFACTS / "15-empty-phone.png")
    page.goto("/?q=" + "市水物局负责哪些任务")
    page.click("p.suggestion a")
    page.wait_for_selector("li.hit")
    assert "市水务局" in page.input_value("input[name=q]") and page.locator(".chip.asked").count() >= 1
