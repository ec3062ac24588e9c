"""Citation strings to documents and clauses: «《武汉市减污降碳协同增效实施方案》第（十二）项», «民法典第三条»,
«国发〔2019〕3号», «第十二条» (within a document given by the caller).

The document part matches a 文号, a whole title, or a short title that a stored title ends with
(民法典 → 中华人民共和国民法典, whose parts are stored as 中华人民共和国民法典-总则 …). The clause part is
turned into the last component of a clause path: 第三条 → a3, （十二） → p12, 第二部分 / 二、 → s2.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.frontmatter import DOC_NUMBER
from ingest.identity import document_id
from ingest.normalize import chinese_number, citation_key, compact

from .store import Store

_CN = "[零〇一二三四五六七八九十百千两]+"
_CLAUSE = re.compile(rf"第?\s*(?:(?P<article>{_CN}|\d+)\s*条(?:之(?P<sub>{_CN}))?|[(（](?P<item>{_CN})[)）]\s*[项条款]?|"
                     rf"(?P<section>{_CN})\s*(?:部分|、))\s*$")

# 《方案》《规划》《决定》 abbreviate the title named just before them: they name no document by themselves.
_SHORT_FORMS = frozenset({"方案", "规划", "决定", "意见", "通知", "办法", "条例", "细则", "规定", "纲要", "计划", "决议",
                          "报告", "实施方案", "行动方案", "工作方案", "实施意见", "指导意见", "行动计划", "本法", "本条例"})


# How the title of a law, regulation or official document ends: 民法典, 专利代理条例, 实施方案, 通知.
_TITLE_END = re.compile(r"(法|法典|条例|规定|办法|细则|方案|意见|通知|决定|规划|纲要|计划|决议|规则|章程|公告|批复|函)$")
_NOT_A_TITLE = re.compile(r"[？?，,。；;！!\s]|谁|哪|什么|怎么|如何|多少|是否|吗$")


@dataclass(frozen=True)
class Citation:
    """A search box holding nothing but a citation: the document as cited and the clause part."""

    name: str  # 民法典, 国办发〔2018〕117号, 武汉市减污降碳协同增效实施方案 (no 《》)
    clause: str  # 第三条, 第（十二）项; "" when it names a whole document
    explicit: bool  # 《…》, a 文号, or a title with a clause part: a document that is not stored is said so


def citation_of(text: str) -> Citation | None:
    """「民法典第三条」, 「《武汉市减污降碳协同增效实施方案》第（十二）项」, 「国办发〔2018〕117号」 → a Citation;
    None for a question that only cites in passing or names no document (「第三条」)."""
    text = compact(text).strip("?？。!！").replace("(", "（").replace(")", "）")
    match = _CLAUSE.search(text)
    name = (text[:match.start()] if match else text).rstrip("的")
    clause = match.group(0) if match else ""
    if not name or len(name) > 60:
        return None
    if DOC_NUMBER.fullmatch(name) or re.fullmatch(r"《[^《》]+》", name):
        return Citation(name.strip("《》"), clause, True)
    if _TITLE_END.search(name) and not _NOT_A_TITLE.search(name) and len(name) <= 40:
        return Citation(name, clause, bool(clause))
    return None


@dataclass(frozen=True)
class Resolution:
    documents: tuple[str, ...]  # ids of the documents the reference names
    clauses: tuple[str, ...]  # ids of the clauses it names (empty when it names a whole document)


def clause_component(text: str) -> str | None:
    """第三条 → a3, （十二） → p12, 第二部分 → s2; None when `text` names no clause."""
    match = _CLAUSE.search(compact(text).replace("(", "（").replace(")", "）"))
    if not match:
        return None
    if match["article"]:
        component = f"a{chinese_number(match['article'])}"
        return component + (f"-{chinese_number(match['sub'])}" if match["sub"] else "")
    if match["item"]:
        return f"p{chinese_number(match['item'])}"
    return f"s{chinese_number(match['section'])}"


def find_documents(store: Store, name: str) -> tuple[str, ...]:
    """Documents named by a 文号, a whole title, or a short title that a stored title ends with."""
    if not compact(name).strip("《》"):
        return ()
    rows = list(store.document_titles().items())
    if number := DOC_NUMBER.search(compact(name)):
        wanted = document_id(number.group(), "")
        return tuple(doc_id for doc_id, _ in rows if doc_id == wanted)
    key = citation_key(name)
    exact = [doc_id for doc_id, title in rows if citation_key(title) == key or doc_id == document_id("", name)]
    if exact or len(key) < 3 or key in _SHORT_FORMS:
        return tuple(exact)
    return tuple(doc_id for doc_id, title in rows if citation_key(title).endswith(key))


def resolve(store: Store, reference: str, *, within: str | None = None,
            named: dict[str, tuple[str, ...]] | None = None) -> Resolution:
    """Resolve a citation; `within` is the document to use when the reference names none. `named`
    keeps the documents each name was found to name, for many resolutions against one version."""
    text = compact(reference)
    component = clause_component(text)
    name = _CLAUSE.sub("", text.replace("(", "（").replace(")", "）")) if component else text
    name = name.rstrip("的")
    if name and named is not None and name not in named:
        named[name] = find_documents(store, name)
    documents = (named[name] if named is not None else find_documents(store, name)) if name else \
        ((within,) if within else ())
    if not documents and within and not name:
        documents = (within,)
    if component is None:
        return Resolution(documents, ())
    clauses = tuple(clause_id for clause_id, path in store.clause_paths(documents) if path and path[-1] == component)
    return Resolution(documents, clauses)


def citing_clauses(store: Store) -> dict[str, tuple[str, ...]]:
    """Document id or clause id → the clauses of *other* documents whose citations resolve to it."""
    found: dict[str, list[str]] = {}
    resolved: dict[tuple[str, str], Resolution] = {}
    named: dict[str, tuple[str, ...]] = {}  # a few titles are cited by thousands of clauses: each looked up once
    for clause_id, doc_id, citations in store.clause_citations():
        for citation in citations:
            if citation.kind == "article" and not citation.title:
                continue  # 第X条 of its own document: not a link between documents
            key = (citation.text, doc_id)
            if key not in resolved:
                resolved[key] = resolve(store, citation.text, within=doc_id, named=named)
            for target in (*resolved[key].documents, *resolved[key].clauses):
                if not target.startswith(doc_id) and clause_id not in found.get(target, ()):
                    found.setdefault(target, []).append(clause_id)
    return {target: tuple(clauses) for target, clauses in found.items()}
