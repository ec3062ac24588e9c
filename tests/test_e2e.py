"""End to end: a real `policykb serve` process, driven by Debian's Chromium through Playwright.

Search, click a facet, open a clause permalink, open a department page, download the task table.
Screenshots go to tests/artifacts/ (ignored by git) for a person to look at.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import openpyxl
import pytest

from conftest import PLANS, SEED, build_home, serving
from test_api import TOKEN

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
def page(server):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        context = browser.new_context(base_url=server, accept_downloads=True, viewport={"width": 1280, "height": 900},
                                      locale="zh-CN")
        yield context.new_page()
        browser.close()


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
