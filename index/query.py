"""Query understanding without a remote model: departments, «谁负责…» questions, clause references.

    «谁负责污泥处置？»             asks_who; retrieval text 「污泥处置」, clauses naming responsible units
    «市水务局负责哪些任务»         departments {武汉市水务局}; nothing else asked: department-centred
    «建筑垃圾资源化利用率目标是多少» asks_target: clauses whose targets' indicators share its words
    «发展和改革委员会的任务»       departments at every level (国家/湖北省/武汉市发展和改革委员会)
    «民法典第三条»                 a reference, resolved to its clause
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest import Document, Level
from ingest.departments import Locality, canonical_name, locality_of
from ingest.normalize import compact

from .resolve import Citation, Resolution, citation_of, clause_component, resolve
from .store import Store

# «谁负责…», «由哪个部门牵头…», «…归哪个单位管»: the question asks who carries a measure out.
WHO_QUESTION = re.compile(r"(由)?(谁|哪个部门|哪些部门|哪个单位|哪些单位|什么部门|哪个机构|哪家单位)(来)?(牵头)?(负责|牵头|主管|承担|落实|管)?(的)?"
                          r"|(的)?(牵头|责任|负责|主管|主责|承办)(单位|部门|机构)(是谁|是哪个|是哪些|有哪些)?")
_GENERIC = re.compile(r"负责|牵头|配合|参与|承担|哪些|什么|任务|工作|事项|职责|有|的|了|吗|呢|是|都|具体|主要|请问|[?？!！。,，、\s]")
_TARGET = re.compile(r"目标|多少|指标是|指标值|比例|比重|达到|百分之|几成|要求.*(率|量)")  # not «指标体系»
_UNIT_END = re.compile(r"(委员会|管委会|中心|集团|公司|银行|海关|政府|[局委厅办署院会])")
_LOCAL_PREFIX = re.compile(r"^(国家|[\u4e00-\u9fa5]{2,6}?(省|自治区|市))")


@dataclass(frozen=True)
class QueryPlan:
    text: str  # what BM25 and the encoder see
    departments: tuple[str, ...]  # canonical names mentioned in the query
    asks_who: bool
    asks_target: bool  # «…目标是多少»: clauses with a matching numeric target rank higher
    department_only: bool  # the query names departments and asks nothing else
    places: tuple[str, ...]  # ids of the documents of a place the query names (武汉, 湖北省, 国家层面)
    reference: Resolution | None
    citation: Citation | None = None  # the query is nothing but a citation (民法典第三条, 国办发〔2018〕117号)


class DepartmentNames:
    """Every name the store knows for a department, and the level-free body name, → canonical names."""

    def __init__(self, store: Store) -> None:
        self.names: dict[str, set[str]] = {}
        rows = store.department_name_pairs()
        for name, canonical in rows:
            for key in (compact(name), canonical, _LOCAL_PREFIX.sub("", canonical)):
                if len(key) >= 3:
                    self.names.setdefault(key, set()).add(canonical)
        known = {canonical for _, canonical in rows}
        for canonical in known:  # national short forms (人民银行, 发展改革委) from ingest's table
            self.names.setdefault(canonical, set()).add(canonical)
        self._by_length = sorted(self.names, key=len, reverse=True)
        self._known = known
        self._wildcards: dict[str, set[str]] | None = None  # built by the first `suggest`

    def find(self, query: str) -> tuple[tuple[str, ...], str]:
        """(canonical names mentioned, the query with those mentions removed), longest names first."""
        text, found = compact(query), []
        for name in self._by_length:
            if name in text:
                found += sorted(self.names[name])
                text = text.replace(name, " ")
        for token in re.findall(r"[\u4e00-\u9fa5]{3,12}", text):  # alias-table short forms: 人民银行
            canonical, _ = canonical_name(token, Locality())
            if canonical != token and canonical in self._known:
                found.append(canonical)
                text = text.replace(token, " ")
        return tuple(dict.fromkeys(found)), text

    def suggest(self, query: str) -> tuple[tuple[str, str], ...]:
        """(as typed, known name) for each unit name in the query that the store does not know but that
        is one character away from a name it does (「市水物局」 → 市水务局): names end in an institutional
        word (_UNIT_END), so only the spans ending in one are looked at."""
        if self._wildcards is None:  # built whole, then published: a reader thread never sees it half-built
            wildcards: dict[str, set[str]] = {}
            for name in self.names:
                for i in range(len(name) - 1):  # the ending stays: 局 is not mistyped as 委
                    wildcards.setdefault(f"{name[:i]}?{name[i + 1:]}", set()).add(name)
            self._wildcards = wildcards
        text, found = compact(query), {}
        for end in (match.end() for match in _UNIT_END.finditer(text)):
            for length in range(min(end, 12), 2, -1):
                typed = text[end - length:end]
                if typed in self.names:
                    break
                near = sorted({name for i in range(length - 1)
                               for name in self._wildcards.get(f"{typed[:i]}?{typed[i + 1:]}", ())})
                if near:
                    found[typed] = near[0]
                    break
        return tuple(found.items())

    def canonicals_for(self, name: str) -> tuple[str, ...]:
        """Canonical names a filter value stands for (alias-aware, any level when no locality is given)."""
        found, rest = self.find(name)
        return found if found and not rest.strip() else found or (compact(name),)


def document_place(document: Document) -> str:
    """The place a document is of: its city, else its province, 全国 for a national one, "" if none."""
    city, province = locality_of(document.title, document.issuers)
    return city or province or ("全国" if document.level == Level.NATIONAL else "")


class Places:
    """Place names → documents: a city or province named in a title or issuer, and 国家/全国 → national."""

    NATIONAL_WORDS = ("国家层面", "全国", "国家", "国务院", "中央")

    def __init__(self, store: Store) -> None:
        self.documents: dict[str, set[str]] = {}
        self._headers: dict[str, Document] = {}
        for document in store.documents():
            doc_id, level = document.id, document.level
            city, province = locality_of(document.title, document.issuers)
            self._headers[doc_id] = document
            for place in filter(None, (city, province)):
                for name in {place, re.sub(r"(市|省|自治区)$", "", place)}:
                    self.documents.setdefault(name, set()).add(doc_id)
            if level == Level.NATIONAL:
                for word in self.NATIONAL_WORDS:
                    self.documents.setdefault(word, set()).add(doc_id)
        self._local = sorted((name for name in self.documents if len(name) >= 2 and name not in self.NATIONAL_WORDS),
                             key=len, reverse=True)

    def document(self, doc_id: str) -> Document:
        """The document's header (no clauses), as the store held it when this index was built."""
        return self._headers[doc_id]

    def find(self, text: str) -> tuple[str, ...]:
        """Documents of the places named in `text` (department names already removed). A city or province
        wins over 国家/全国, which also occur inside names of things (全国碳排放权注册登记系统)."""
        named = self._named(text)
        return tuple(sorted(set().union(*(self.documents[name] for name in named)))) if named else ()

    def strip(self, text: str) -> str:
        """`text` without the place names `find` acts on: inside that place's documents they say nothing."""
        for name in sorted(self._named(text), key=len, reverse=True):
            text = text.replace(name, " ")
        return text

    def _named(self, text: str) -> list[str]:
        named = [name for name in self._local if name in text]
        return named or [word for word in self.NATIONAL_WORDS if word in text and word in self.documents][:1]


def analyse(store: Store, names: DepartmentNames, places: Places, query: str, *,
            within: str | None = None) -> QueryPlan:
    reference = None
    if clause_component(query) or re.search(r"《[^》]+》|〔\d{4}〕", query):
        resolved = resolve(store, query, within=within)
        reference = resolved if resolved.clauses or resolved.documents else None
    asks_who = bool(WHO_QUESTION.search(compact(query)))
    text = WHO_QUESTION.sub(" ", compact(query)) if asks_who else query
    departments, rest = names.find(text)
    department_only = bool(departments) and not _GENERIC.sub("", rest)
    asks_target = bool(_TARGET.search(compact(query)))
    return QueryPlan(text.strip() or query, departments, asks_who, asks_target, department_only,
                     places.find(rest), reference, citation_of(query))
