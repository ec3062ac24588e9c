"""The cross-level check on the real 减污降碳 plans (the seed and the national and Hubei plans): its
threshold as eval/crosscheck.py chooses it, 「无对应措施」 where the annotation has no counterpart, the
«上级有、本级无» list, lead bodies the same across levels and renamings, and no work at a page view."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from conftest import PLANS, SEED, build_home
from eval.crosscheck import choose_threshold, decisions, evaluate_crosscheck
from index import Store
from index.crosscheck import THRESHOLD, cross_check, missing_measures, related_documents
from search_api.app import create_app
from search_api.library import Library, _crosscheck_key
from search_api.settings import Settings
from search_api.views import crosscheck_json

W, H, N = "武汉市减污降碳协同增效实施方案", "鄂环发-2022-33", "环综合-2022-42"
LOCAL = "http://127.0.0.1:8000"


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return build_home(tmp_path_factory.mktemp("crosscheck"), [SEED, *PLANS], vectors=False)


@pytest.fixture(scope="module")
def store(home):
    with Store.open(home) as opened:
        yield opened


def _row(rows, clause_id):
    return next(row for row in rows if row.clause_id == clause_id)


def test_the_shipped_threshold_is_the_one_chosen_on_the_dev_split(store):
    found = decisions(store)
    assert choose_threshold([item for item in found if item.split == "dev"]) == THRESHOLD
    result = evaluate_crosscheck(store)["scores"]
    assert result["test"]["counterpart precision"] >= 0.97 and result["test"]["counterpart recall"] >= 0.97
    assert result["all"]["counterpart precision"] >= 0.99 and result["all"]["gold none"] == 2


def test_international_cooperation_has_no_counterpart_in_the_city_plan(store):
    """N.s8.p28 (国际合作) is on no row of twins.tsv: the city plan has 「无对应措施」 (null in JSON)."""
    rows = cross_check(store, N, [H, W])
    cooperation = _row(rows, f"{N}.s8.p28")
    assert cooperation.counterparts[1] is None
    assert crosscheck_json([cooperation])[0]["counterparts"][1] is None
    water = _row(rows, f"{N}.s5.p14")  # a measure all three carry keeps its counterparts
    assert [match.clause_id for match in water.counterparts] == [f"{H}.s4.p11", f"{W}.s4.p12"]


def test_the_city_plan_lacks_international_cooperation_of_the_national_plan(store):
    missing = {item.clause_id for item in missing_measures(store, W, [N, H])}
    assert f"{N}.s8.p28" in missing
    assert f"{N}.s5.p14" not in missing and not any(item.startswith(f"{H}.") for item in missing)
    assert missing_measures(store, N, []) == []


def test_forestry_bureau_renamed_grassland_bureau_is_not_flagged_as_different(store):
    """市园林和林业局 (W (十)) ↔ 国家林草局 (N (十二)) ↔ 省林业局 (H (九)): one line of government."""
    forestry = _row(cross_check(store, W, [N, H]), f"{W}.s3.p10")
    assert [match.clause_id for match in forestry.counterparts] == [f"{N}.s4.p12", f"{H}.s3.p9"]
    assert [match.differs for match in forestry.counterparts] == [False, False]


def test_counterparts_across_levels_are_the_same_lead_and_real_differences_stay_flagged(store):
    rows = cross_check(store, W, [N, H])
    reform = _row(rows, f"{W}.s2.p5")  # 市发改委 ↔ 国家发展改革委 ↔ 省发改委
    assert [match.differs for match in reform.counterparts] == [False, False]
    law = _row(rows, f"{W}.s6.p19")  # 市司法局 against 生态环境部 / 省生态环境厅
    assert [match.differs for match in law.counterparts] == [True, True]


def test_the_crosscheck_is_ready_before_any_page_asks(home):
    """Computed by the maintenance thread at start-up: no page view starts it or waits for it."""
    library = Library(Settings(home=home, embed_in_background=False, crosscheck_wait_seconds=0))
    library.start()
    try:
        with library.reading() as searcher:
            keys = [_crosscheck_key(searcher, doc, related_documents(searcher, doc)) for doc in (W, H, N)]
        deadline = time.monotonic() + 60
        while not all(library.crosschecks.has(key) for key in keys) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert all(library.crosschecks.has(key) for key in keys)
        page = library.document_page(W, 0, 200)
        assert page.crosscheck.status == "ready"
        assert f"{N}.s8.p28" in {item.clause_id for item in page.crosscheck.missing}
    finally:
        library.close()


def test_the_page_and_json_show_missing_measures_and_no_counterpart(home):
    with TestClient(create_app(Settings(home=home, embed_in_background=False)), base_url=LOCAL) as client:
        body = client.get(f"/api/documents/{W}", params={"limit": 200}).json()
        assert f"{N}.s8.p28" in {item["clause_id"] for item in body["missing_from_this_level"]}
        assert client.get(f"/api/documents/{N}").json()["missing_from_this_level"] == []
        city = client.get(f"/documents/{W}", params={"limit": 200}).text
        assert "上级有、本级无" in city and "（二十八）" in city
        national = client.get(f"/documents/{N}", params={"limit": 200}).text
        assert "无对应措施" in national and "上级有、本级无" not in national
