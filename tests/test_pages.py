"""The pages' layout contracts (issue 16, layout): results before facets, a skip link first, chips that write
their role in words with colours of enough contrast, citations staff can paste, error pages that keep the query.
The browser checks of the same (focus order, phone width, print) are in test_e2e.py."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient

from conftest import SEED, build_home
from search_api import Settings, create_app
from search_api.pages import clause_citation, readable_url

SEED_ID = "武汉市减污降碳协同增效实施方案"
STYLE = Path(__file__).resolve().parents[1] / "search_api" / "static" / "style.css"
ROLE_TEXT = {"lead": "牵头", "co": "责任", "support": "配合", "inherited": "承继"}


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    home = build_home(tmp_path_factory.mktemp("pages"), [SEED])
    settings = Settings(home=home, embed_in_background=False)
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as opened:
        yield opened


def relative_luminance(colour: str) -> float:
    """WCAG 2 relative luminance of #rrggbb or rgb(r, g, b)."""
    channels = ([int(colour[i:i + 2], 16) for i in (1, 3, 5)] if colour.startswith("#")
                else [int(part) for part in re.findall(r"\d+", colour)[:3]])
    linear = [c / 255 / 12.92 if c / 255 <= 0.03928 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(first: str, second: str) -> float:
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_contrast_ratio_matches_the_wcag_reference_values():
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21)
    assert contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


@pytest.mark.parametrize("role", ROLE_TEXT)
def test_each_role_chip_colour_has_contrast_of_at_least_4_5(role):
    css = STYLE.read_text(encoding="utf-8")
    variables = dict(re.findall(r"--([\w-]+):\s*(#[0-9a-f]{6})", css))
    chip = re.search(r"\n\.chip \{([^}]*)\}", css)[1]
    base = dict(re.findall(r"(?<![\w-])(background|color):\s*(#[0-9a-f]{6})", chip))
    rule = re.search(rf"\.chip\.role-{role} \{{([^}}]*)\}}", css)
    found = dict(re.findall(r"(?<![\w-])(background|color):\s*(#[0-9a-f]{6}|var\(--[\w-]+\))", rule[1])) if rule else {}
    colours = {key: variables[value[6:-1]] if value.startswith("var(") else value for key, value in found.items()}
    colours = {**base, **colours}
    assert contrast_ratio(colours["color"], colours["background"]) >= 4.5, (role, colours)


@pytest.mark.parametrize(("title", "number", "citation"), [
    ("武汉市减污降碳协同增效实施方案", "（十二）", "《武汉市减污降碳协同增效实施方案》第（十二）项"),
    ("武漢市減污降碳協同增效實施方案", "(十二)", "《武汉市减污降碳协同增效实施方案》第（十二）项"),  # a Traditional copy
    ("中华人民共和国民法典", "第三条", "《中华人民共和国民法典》第三条"),
    ("武汉市减污降碳协同增效实施方案", "四、", "《武汉市减污降碳协同增效实施方案》第四部分"),
    ("某某方案", "", "《某某方案》"),
])
def test_clause_citation_is_written_as_staff_cite_it(title, number, citation):
    assert clause_citation(title, number) == citation


def test_readable_url_keeps_chinese_and_escapes_what_would_break_the_link():
    assert readable_url("https://kb.example.org/policykb/", "/clauses/武汉市方案.s4.p12") == \
        "https://kb.example.org/policykb/clauses/武汉市方案.s4.p12"
    assert readable_url("http://127.0.0.1:8000", "/clauses/a b?#%") == "http://127.0.0.1:8000/clauses/a%20b%3F%23%25"


def test_clause_page_offers_a_citation_that_resolves_back_to_the_clause(client):
    page = client.get(f"/clauses/{SEED_ID}.s4.p12").text
    value = re.search(r'id="citation" readonly value="([^"]*)"', page)[1]
    citation, permalink = value.split(" ")
    assert citation == "《武汉市减污降碳协同增效实施方案》第（十二）项" and "复制引用" in page
    assert permalink == f"http://127.0.0.1:8000/clauses/{SEED_ID}.s4.p12"
    found = client.get("/resolve", params={"ref": citation}, follow_redirects=False)
    assert unquote(found.headers["location"]) == f"/clauses/{SEED_ID}.s4.p12"


def test_the_permalink_uses_the_public_url_when_set(tmp_path):
    home = build_home(tmp_path / "home", [SEED], vectors=False)
    settings = Settings(home=home, embed_in_background=False, public_url="https://kb.example.org/policykb")
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as service:
        page = service.get(f"/clauses/{SEED_ID}.s4.p12", headers={"Host": "kb.example.org"}).text
    assert f"项 https://kb.example.org/policykb/clauses/{SEED_ID}.s4.p12\"" in page


def test_search_page_puts_results_before_facets_and_a_skip_link_first(client):
    page = client.get("/", params={"q": "污泥处置"}).text
    assert page.index('class="results"') < page.index('class="facets"')
    first_focusable = re.search(r"<(a|input|button)\b[^>]*>", page[page.index("<body>"):])[0]
    assert first_focusable == '<a class="skip" href="#main">' and '<main id="main"' in page


def test_chips_write_the_role_in_words(client):
    page = client.get("/", params={"q": "污泥处置"}).text
    chips = re.findall(r'<a class="chip role-(\w+)[^"]*"[^>]*><b class="role-text">([^<]*)</b>', page)
    assert {role for role, _ in chips} >= {"lead", "co"}
    assert all(text.startswith(ROLE_TEXT[role]) for role, text in chips), chips
    assert any(text in ("牵头（推定）", "牵头（依规则）") for role, text in chips if role == "lead")


@pytest.mark.parametrize("path", ["/clauses/没有这一条?q=污泥处置", "/resolve?ref=《没有的方案》第三条&q=污泥处置"])
def test_error_pages_say_what_happened_and_keep_the_typed_query(client, path):
    response = client.get(path)
    assert response.status_code == 404 and "没有找到" in response.text and "Traceback" not in response.text
    assert 'name="q" value="污泥处置"' in response.text


def test_a_too_long_query_is_refused_in_words_and_kept_in_the_box(client):
    response = client.get("/", params={"q": "污泥" * 400})
    assert response.status_code == 422 and "超过上限" in response.text
    assert f'name="q" value="{"污泥" * 400}"' in response.text


def test_the_empty_results_page_keeps_the_typed_query(client):
    page = client.get("/", params={"q": "完全不相干的词语组合qzx"}).text
    assert "没有找到" in page and 'name="q" value="完全不相干的词语组合qzx"' in page
