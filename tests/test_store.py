"""The SQLite store: round trip, no-op re-ingest, replacement in one transaction, CLI JSON contract."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import re
import sqlite3

import pytest

from conftest import CORPUS, RULE_DOC, SEED
from index import Store, ingest_paths
from index.rows import ClauseText
from index.versions import ClauseChangeKind, clause_diff, document_history
from ingest import Document, SourceText, ingest_file, parse_document
from ingest.errors import NotFound, StoreError
from ingest.records import Change, Validity
from search_api.cli import main


@pytest.fixture()
def store(tmp_path):
    with Store.open(tmp_path / "home") as opened:
        yield opened


def test_round_trip_gives_back_the_parsed_document(store, seed):
    assert store.put_document(seed) == "added"
    stored = store.document(seed.id)
    assert stored.clauses == seed.clauses
    assert dataclasses.replace(stored, clauses=(), aliases=()) == dataclasses.replace(seed, clauses=(), aliases=())
    assert dict(stored.aliases) == dict(seed.aliases)


def test_reingesting_the_same_file_is_a_no_op(store, tmp_path):
    first = ingest_paths(store, [SEED])
    again = ingest_paths(store, [SEED])
    assert [r.status for r in first] == ["added"] and [r.status for r in again] == ["unchanged"]
    assert store.counts()["documents"] == 1


def test_a_changed_file_replaces_the_old_version_and_keeps_unchanged_ids(store, tmp_path, seed):
    ingest_paths(store, [SEED])
    changed = tmp_path / SEED.name
    text = SEED.read_text(encoding="utf-8")
    changed.write_text(text.replace("提高工業用水效率", "大力提高工業用水效率").rsplit("\n(二十六)", 1)[0] + "\n",
                       encoding="utf-8")
    (result,) = ingest_paths(store, [changed])
    assert result.status == "replaced" and result.doc_id == seed.id
    stored = store.document(seed.id)
    assert store.counts()["documents"] == 1
    assert [c.id for c in stored.clauses] == [c.id for c in seed.clauses if c.number != "(二十六)"]
    twelfth = next(c for c in stored.clauses if c.id.endswith(".s4.p12"))
    assert "大力提高工業用水效率" in twelfth.text


def test_a_failed_write_leaves_the_previous_version_whole(store, seed):
    store.put_document(seed)
    before = store.counts()
    duplicate = dataclasses.replace(seed, sha256="0" * 64, clauses=seed.clauses + seed.clauses[-1:])
    with pytest.raises(sqlite3.IntegrityError):
        store.put_document(duplicate)
    assert store.counts() == before
    assert store.document(seed.id).clauses == seed.clauses


def test_delete_and_not_found(store, seed):
    store.put_document(seed)
    store.delete_document(seed.id)
    assert store.counts() == {"documents": 0, "clauses": 0, "tasks": 0, "responsibilities": 0, "units": 0, "units_fts": 0}
    with pytest.raises(NotFound, match="policykb docs"):
        store.document(seed.id)


def test_a_foreign_file_is_not_opened_as_a_store(tmp_path):
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "policykb.sqlite3").write_bytes(b"not a database at all" * 100)
    with pytest.raises(StoreError, match="--home"):
        Store.open(tmp_path / "home")


def test_show_json_follows_the_contract(tmp_path, capsys):
    home = str(tmp_path / "home")
    assert main(["--home", home, "ingest", str(SEED)]) == 0
    capsys.readouterr()
    assert main(["--home", home, "show", "武汉市减污降碳协同增效实施方案", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert set(shown) == {"document", "clauses"}
    clause = next(c for c in shown["clauses"] if c["number"] == "(十二)")
    assert set(clause) == {"id", "number", "heading_path", "title", "text", "tasks", "departments", "tags",
                           "targets", "citations"}
    assert set(clause["tasks"][0]) == {"text", "departments"}
    assert clause["tasks"][0]["departments"][0] == {"name": "市生態環境局", "canonical": "武汉市生态环境局",
                                                    "role": "lead", "basis": "first-listed",
                                                    "lead_basis": "presumed"}
    assert clause["departments"][-1]["role"] == "inherited"
    assert main(["--home", home, "show", "no-such-doc"]) == 2
    assert "policykb docs" in capsys.readouterr().err


def test_docs_lists_documents(tmp_path, capsys):
    home = str(tmp_path / "home")
    main(["--home", home, "docs"])
    assert "还没有导入文件" in capsys.readouterr().out
    main(["--home", home, "ingest", str(SEED)])
    capsys.readouterr()
    assert main(["--home", home, "docs", "--json"]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert listed["id"] == "武汉市减污降碳协同增效实施方案" and listed["level"] == "municipal"


def test_bundled_corpus_ingests_and_its_manifest_matches(tmp_path):
    for manifest in CORPUS.glob("*/MANIFEST.tsv"):
        for row in csv.DictReader(manifest.read_text(encoding="utf-8").splitlines(), delimiter="\t"):
            data = (manifest.parent / row["file"]).read_bytes()
            assert hashlib.sha256(data).hexdigest() == row["sha256"], row["file"]
    with Store.open(tmp_path / "home") as store:
        results = ingest_paths(store, [CORPUS])
        assert {r.status for r in results} == {"added"} and len(results) == 61
        national = store.document("环综合-2022-42")
        assert national.level == "national" and national.date == "2022-06-10"
        assert ingest_file(CORPUS / "seed" / SEED.name).id in {d.id for d in store.documents()}


def test_an_older_version_does_not_replace_a_newer_one(store, seed):
    newer = dataclasses.replace(seed, sha256="1" * 64, date="2024-01-01")
    assert store.put_document(newer) == "added"
    assert store.put_document(seed) == "older"
    assert store.document(seed.id).date == "2024-01-01"
    assert store.put_document(dataclasses.replace(seed, sha256="2" * 64, date="2025-01-01")) == "replaced"


# -- identity: different documents never replace each other (issue 12, defects 7 and 11) ------------

def plan_text(title: str, measure: str = "推进垃圾分类", doc_number: str = "") -> str:
    lines = [title, *([doc_number] if doc_number else []), "一、重点任务",
             f"（一）{measure}。在全市社区设置分类投放点。（市城管执法委牵头，市生态环境局配合）"]
    return "\n".join(lines) + "\n"


def ingest_texts(store, folder, texts: dict[str, str]) -> list:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        (folder / name).write_text(text, encoding="utf-8")
    return ingest_paths(store, [folder / name for name in texts])


_LONG = "武汉市人民政府办公厅关于印发武汉市推进城市生活垃圾分类和资源化利用工作实施方案及配套措施和有关专项行动计划的通知"  # 60


@pytest.mark.parametrize("first, second", [
    (_LONG + "（试行稿）（2024年版）", _LONG + "（试行稿）（2025年版）"),  # the same 60 first characters
    ("关于推进社区垃圾分类、资源化工作的实施方案", "关于推进社区垃圾分类资源化工作的实施方案"),  # punctuation only
    ("关于保护\U0002A6A5山古树名木的实施方案", "关于保护\U0002B5E7山古树名木的实施方案"),  # Extension-B characters only
], ids=["sharing-60-characters", "only-punctuation", "only-extension-b"])
def test_colliding_titles_are_two_documents_and_both_are_kept(store, tmp_path, first, second):
    results = ingest_texts(store, tmp_path / "in", {"first.txt": plan_text(first, "甲"), "second.txt": plan_text(second, "乙")})
    assert [result.status for result in results] == ["added", "added"], results
    assert results[0].doc_id != results[1].doc_id
    assert {document.title for document in store.documents()} == {first, second}
    assert all(re.fullmatch(r"[0-9A-Za-z\u4e00-\u9fff.-]+", clause_id) for result in results
               for clause_id in (clause.id for clause in store.document(result.doc_id).clauses))


def test_the_same_plan_as_txt_docx_and_pdf_keeps_one_id(store, tmp_path):
    from render import render_docx, render_official_pdf

    title = "武汉市“无废城市”建设实施方案"
    blocks = [title, "一、重点任务", "（一）推进垃圾分类。在全市社区设置分类投放点。（市城管执法委牵头，市生态环境局配合）"]
    (tmp_path / "plan.txt").write_text("\n".join(blocks) + "\n", encoding="utf-8")
    files = [tmp_path / "plan.txt", render_docx(blocks, tmp_path / "plan.docx", title),
             render_official_pdf(blocks, tmp_path / "plan.pdf", title)]
    ids = {ingest_file(path).id for path in files}
    assert len(ids) == 1 and ingest_file(files[0]).title == title, ids


def test_bundled_and_gold_ids_are_unchanged(tmp_path):
    from eval.policy import DOCUMENTS

    with Store.open(tmp_path / "home") as store:
        ingest_paths(store, [CORPUS])
        ids = {document.id for document in store.documents()}
    assert set(DOCUMENTS.values()) <= ids and "武汉市减污降碳协同增效实施方案" in ids
    assert not [doc_id for doc_id in ids if re.search(r"-[0-9a-f]{8}$", doc_id)]


def test_a_doc_number_shared_by_another_title_and_issuer_does_not_replace(store, tmp_path):
    (original,) = ingest_paths(store, [RULE_DOC])
    before = store.document(original.doc_id)
    (forged,) = ingest_texts(store, tmp_path / "in", {"forged.txt": plan_text(
        "关于做好社区垃圾分类宣传工作的通知", "开展宣传", "国发〔2019〕3号")})
    assert forged.status == "added" and forged.doc_id != original.doc_id, forged
    assert store.document(original.doc_id) == before
    assert store.document(forged.doc_id).doc_number == "国发〔2019〕3号"


def test_a_replacement_is_recorded_with_who_when_and_what(store, tmp_path):
    (first,) = ingest_texts(store, tmp_path / "v1", {"plan.txt": plan_text("关于推进社区垃圾分类工作的实施方案")})
    old_sha = store.document(first.doc_id).sha256
    (second,) = ingest_paths(store, [tmp_path / "v1" / "plan.txt"])
    assert second.status == "unchanged" and store.replacements(first.doc_id) == []
    (third,) = ingest_texts(store, tmp_path / "v2", {"plan.txt": plan_text("关于推进社区垃圾分类工作的实施方案", "大力推进")})
    assert third.status == "replaced" and third.doc_id == first.doc_id
    (record,) = store.replacements(first.doc_id)
    assert record.old_sha256 == old_sha and record.new_sha256 == store.document(first.doc_id).sha256
    assert record.old_title == "关于推进社区垃圾分类工作的实施方案" and record.actor and record.replaced_at[:4].isdigit()


def test_put_without_replace_leaves_another_version_alone(store, seed):
    assert store.put_document(seed) == "added"
    other = dataclasses.replace(seed, sha256="3" * 64, date="2030-01-01")
    assert store.put_document(other, replace=False) == "exists"
    assert store.document(seed.id).sha256 == seed.sha256 and store.replacements(seed.id) == []


def test_two_writers_of_one_file_never_share_a_temporary_name(tmp_path):
    """Issue 12, defect 10: every writer used `<target>.tmp`; the second rename found nothing to rename."""
    import threading
    import time

    from index.files import write_atomically

    target, barrier, errors = tmp_path / "lexical.npz", threading.Barrier(4), []

    def write(number: int) -> None:
        def slowly(temporary):
            temporary.write_bytes(b"first half ")
            barrier.wait()
            time.sleep(0.05)
            with temporary.open("ab") as handle:
                handle.write(f"writer {number}".encode())
        try:
            write_atomically(target, slowly, suffix=".tmp.npz")
        except OSError as error:
            errors.append(error)

    threads = [threading.Thread(target=write, args=(number,)) for number in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and re.fullmatch(rb"first half writer \d", target.read_bytes())
    assert [path.name for path in tmp_path.iterdir()] == ["lexical.npz"]


def test_colliding_titles_through_the_cli_are_both_kept(tmp_path, capsys):
    folder, home = tmp_path / "in", str(tmp_path / "home")
    folder.mkdir()
    (folder / "a.txt").write_text(plan_text(_LONG + "（试行稿）（2024年版）", "甲"), encoding="utf-8")
    (folder / "b.txt").write_text(plan_text(_LONG + "（试行稿）（2025年版）", "乙"), encoding="utf-8")
    assert main(["--home", home, "ingest", str(folder)]) == 0
    assert "新增 2" in capsys.readouterr().out
    assert main(["--home", home, "docs", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 2


# -- validity ------------------------------------------------------------------------------------

def _regulation(title: str, date: str, number: str, *articles: str) -> Document:
    lines = (title, *(f"第{'一二三四五'[index]}条 {text}" for index, text in enumerate(articles)))
    return parse_document(SourceText(lines, "txt", "utf-8", hashlib.sha256("".join(lines).encode()).hexdigest(), "t",
                                     {"title": title, "date": date, "doc_number": number}))


OLD_RULES = ("排污许可证管理暂行规定", "2016-12-23", "环水体〔2016〕186号", "为规范排污许可证管理，制定本规定。",
             "本规定自印发之日起施行。")
NEW_RULES = ("排污许可管理办法", "2024-04-01", "生态环境部令第32号", "为了规范排污许可管理，制定本办法。",
             "本办法自2024年7月1日起施行。2016年12月23日原环境保护部印发的《排污许可证管理暂行规定》同时废止。")


@pytest.mark.parametrize("order", ["old first", "new first"])
def test_a_newer_document_that_repeals_an_older_one_marks_it_repealed_in_any_order(store, order):
    old, new = _regulation(*OLD_RULES), _regulation(*NEW_RULES)
    assert old.validity == new.validity == Validity.VALID  # each says when it takes effect
    assert new.changes == (Change("排污许可证管理暂行规定", Validity.REPEALED),)
    for document in ((old, new) if order == "old first" else (new, old)):
        store.put_document(document)
    held = {document.id: document.validity for document in store.documents()}
    assert held == {old.id: Validity.REPEALED, new.id: Validity.VALID}
    assert store.document_header(old.id).validity == Validity.REPEALED
    assert store.document_header(new.id).changes == new.changes
    store.delete_document(new.id)  # the repeal goes with the document that says it
    assert store.document_header(old.id).validity == Validity.VALID


def test_an_older_document_cannot_repeal_a_newer_one_and_amendments_are_read_from_the_title(store):
    repealer = _regulation("排污许可管理旧办法", "2010-01-01", "环发〔2010〕1号", "《排污许可证管理暂行规定》同时废止。")
    amender = _regulation("生态环境部关于修改《排污许可证管理暂行规定》的决定", "2018-01-10", "环境保护部令第48号",
                          "本决定自公布之日起施行。")
    for document in (_regulation(*OLD_RULES), repealer, amender):
        store.put_document(document)
    assert store.document_header("环水体-2016-186").validity == Validity.AMENDED


def test_staff_validity_wins_is_kept_by_a_new_version_and_goes_with_the_document(store):
    old, new = _regulation(*OLD_RULES), _regulation(*NEW_RULES)
    store.put_document(old)
    store.put_document(new)
    store.set_validity(old.id, Validity.VALID, "api:127.0.0.1")
    assert store.document_header(old.id).validity == Validity.VALID
    assert store.validity_mark(old.id).actor == "api:127.0.0.1"
    version = store.data_version()
    store.put_document(dataclasses.replace(old, sha256="1" * 64))  # a new version of the old rules
    assert store.document_header(old.id).validity == Validity.VALID and store.data_version() > version
    store.set_validity(old.id, None, "api:127.0.0.1")
    assert store.document_header(old.id).validity == Validity.REPEALED and store.validity_mark(old.id) is None
    store.set_validity(new.id, Validity.AMENDED, "cli")
    store.delete_document(new.id)
    assert store.validity_mark(new.id) is None
    with pytest.raises(NotFound):
        store.set_validity("没有这个文件", Validity.VALID, "cli")


def test_a_format_4_store_gets_validity_from_its_stored_text_when_opened(tmp_path):
    home, old, new = tmp_path / "home", _regulation(*OLD_RULES), _regulation(*NEW_RULES)
    with Store.open(home) as store:
        store.put_document(old)
        store.put_document(new)
    with sqlite3.connect(home / "policykb.sqlite3") as connection:  # as a store written before validity
        connection.execute("ALTER TABLE documents DROP COLUMN validity")
        connection.execute("DROP TABLE document_changes")
        connection.execute("DROP TABLE validity_marks")
        connection.execute("DROP TABLE replaced_clauses")
        connection.execute("UPDATE meta SET value = '4' WHERE key = 'format_version'")
    with Store.open(home) as store:
        assert {document.id: document.validity for document in store.documents()} == {
            old.id: Validity.REPEALED, new.id: Validity.VALID}
        assert store._connection.execute("SELECT value FROM meta WHERE key = 'format_version'").fetchone()[0] == "5"
        store.put_document(_regulation("另一个办法", "2024-05-01", "", "本办法自2024年6月1日起施行。"))
        assert store.document_header("另一个办法").validity == Validity.VALID


# -- versions ------------------------------------------------------------------------------------

def test_a_new_version_keeps_the_old_as_history_with_a_clause_diff(store, tmp_path, seed):
    ingest_paths(store, [SEED])
    changed = tmp_path / SEED.name
    text = SEED.read_text(encoding="utf-8")
    changed.write_text(text.replace("提高工業用水效率", "大力提高工業用水效率").rsplit("\n(二十六)", 1)[0] + "\n",
                       encoding="utf-8")
    ingest_paths(store, [changed])
    (version,) = document_history(store, seed.id)
    assert version.recorded and version.replacement.old_sha256 == seed.sha256
    assert [(change.kind, change.clause_id.rsplit(".", 2)[-2:]) for change in version.changes] == [
        (ClauseChangeKind.CHANGED, ["s4", "p12"]), (ClauseChangeKind.REMOVED, ["s7", "p26"])]
    water = version.changes[0]
    assert "大力提高工業用水效率" in water.new_text and "大力" not in water.old_text and water.number == "(十二)"
    assert len(store.replaced_versions(seed.id)[0][1]) == len(seed.clauses)
    assert document_history(store, "没有这个文件") == []


def test_clause_diff_ignores_spacing_and_script_and_orders_removed_last():
    old = (ClauseText("d.s1", "一、", "总体要求", "坚持 系统观念。"), ClauseText("d.s2", "二、", "任务", "加強监管。"),
           ClauseText("d.s3", "三、", "保障", "加强组织领导。"))
    new = (ClauseText("d.s1", "一、", "总体要求", "坚持系统观念。"), ClauseText("d.s2", "二、", "任务", "加强监管。"),
           ClauseText("d.s4", "四、", "附则", "自印发之日起施行。"))
    assert [(change.kind, change.clause_id) for change in clause_diff(old, new)] == [
        (ClauseChangeKind.ADDED, "d.s4"), (ClauseChangeKind.REMOVED, "d.s3")]
    assert clause_diff(new, new) == ()
