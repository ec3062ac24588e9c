"""Response bodies of the JSON routes under /api, as pydantic models (the HTTP edge only; inside, records
are frozen dataclasses and the views in `views.py` build plain dicts from them).

One `*Public` model per body, in the FastAPI full-stack template's manner: the routes name them in
`response_model=`, so `/openapi.json` describes every body, and FastAPI validates each dict a view
builds against its model before sending it. Fields are declared in the order the views write their
keys, so the JSON sent is the same bytes as the view's dict; every model forbids keys it does not
declare, so a key a view adds without its field here fails the tests instead of being dropped. Every
non-2xx answer is an `ErrorResponse` (error_models.py).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from index.rows import Outcome
from index.search import SearchMode
from ingest import Role
from ingest.records import LeadBasis

from .derived import CrossCheckStatus
from .answer_models import AnswerPublic, LevelText, RoleText
from .document_models import ValidityText
from .error_models import PublicModel

RoleCounts = Annotated[dict[Role, int], Field(description="各角色（lead/co/support/inherited）的条款数，只列有的角色")]


# -- clauses -----------------------------------------------------------------------------------

class ResponsibilityPublic(PublicModel):
    name: str = Field(description="文件中写的单位名称")
    canonical: str = Field(description="规范名称（简体，同一机构一个名称）")
    role: RoleText
    basis: str = Field(description="角色的依据：文件中的用语或标签（牵头、配合、牵头单位…），rule:… 依文件规则，"
                                   "first-listed 按排序推定，listed，inherited:…")
    lead_basis: LeadBasis | None = Field(description="牵头单位的来源：stated 文件明确、rule 依文件规则、presumed 按排序推定；"
                                                     "其他角色为 null")


class TaskPublic(PublicModel):
    text: str = Field(description="一个责任标注覆盖的任务原文")
    departments: list[ResponsibilityPublic]


class TargetPublic(PublicModel):
    year: int = Field(description="目标年份")
    indicator: str = Field(description="指标")
    value: str
    unit: str
    text: str = Field(description="目标所在的句子")


class CitationPublic(PublicModel):
    text: str = Field(description="文件中写的引用")
    kind: str = Field(description="title 书名号标题、doc_number 文号、article 条款")
    title: str
    doc_number: str
    article: str


class ClausePublic(PublicModel):
    """`policykb show --json` 中的一个条款。"""

    id: str = Field(description="条款 ID（由文件和编号路径决定，重新导入不变）")
    number: str = Field(description="印刷的编号，如（十二）、第三条；无编号为空")
    heading_path: list[str] = Field(description="所在各级标题")
    title: str
    text: str
    tasks: list[TaskPublic]
    departments: list[ResponsibilityPublic] = Field(description="各任务的单位之和，加上承继的单位")
    tags: list[str] = Field(description="主题和措施类型")
    targets: list[TargetPublic]
    citations: list[CitationPublic]


class ClauseBriefPublic(PublicModel):
    id: str
    number: str
    title: str = Field(description="条款标题；没有标题时为正文前 40 字")


class CitingClausePublic(ClauseBriefPublic):
    doc_title: str


class ResolvedCitationPublic(CitationPublic):
    documents: list[str] = Field(description="引用所指的库中文件 ID")
    clauses: list[str] = Field(description="引用所指的库中条款 ID")


class TwinPublic(PublicModel):
    """同一措施在另一文件（另一层级或版本）中的条款。"""

    clause_id: str
    doc_id: str
    doc_title: str
    level: LevelText
    place: str = Field(description="文件所属地方（武汉市、湖北省、全国）；不详为空")
    number: str
    title: str


class ClauseTwinPublic(TwinPublic):
    similarity: float = Field(description="两条文字的相似度（字三元组 Jaccard，0–1）")


class ClauseInContextPublic(PublicModel):
    """一个条款及其上下文（GET /api/clauses/{clause_id}）。"""

    id: str
    number: str
    heading_path: list[str]
    title: str
    text: str
    tasks: list[TaskPublic]
    departments: list[ResponsibilityPublic]
    tags: list[str]
    targets: list[TargetPublic]
    citations: list[ResolvedCitationPublic] = Field(description="引用，及其在库中所指的文件和条款")
    doc_id: str
    doc_title: str
    doc_level: LevelText
    permalink: str = Field(description="条款页面的地址")
    previous: ClauseBriefPublic | None = Field(description="上一条；第一条为 null")
    next: ClauseBriefPublic | None = Field(description="下一条；最后一条为 null")
    sections: list[ClauseBriefPublic] = Field(description="所在的各级章节，由外到内")
    cited_by: list[CitingClausePublic] = Field(description="引用本条或本文件的条款")
    twins: list[ClauseTwinPublic] = Field(description="其他文件中几乎相同的措施（国家、省、市），国家层级在前")


# -- search ------------------------------------------------------------------------------------

class DocumentRefPublic(PublicModel):
    id: str
    title: str


class SearchResultPublic(PublicModel):
    clause_id: str
    doc_id: str
    doc_title: str
    number: str
    heading_path: list[str]
    text: str
    highlight: str = Field(description="命中的任务（或条款）原文，已做 HTML 转义，检索词以 <mark> 标出")
    departments: list[ResponsibilityPublic]
    score: float = Field(description="融合排序得分（6 位小数）")
    twins: list[TwinPublic] = Field(description="同一措施在其他层级文件中的条款（与本条合为一个结果），国家层级在前")
    title: str
    task: int = Field(description="命中的任务序号（条款内，0 起）")
    tags: list[str]
    targets: list[TargetPublic]
    level: LevelText = Field(description="结果所在文件的层级")
    place: str = Field(description="结果所在文件所属地方（武汉市、湖北省、全国）；不详为空")


class NameCountPublic(PublicModel):
    name: str
    count: int


class DocumentCountPublic(PublicModel):
    id: str
    title: str
    count: int


class FacetsPublic(PublicModel):
    """前 100 个命中中各部门（不含承继）、文件、标签的条款数。"""

    departments: list[NameCountPublic]
    documents: list[DocumentCountPublic]
    tags: list[NameCountPublic]


class SuggestionPublic(PublicModel):
    typed: str = Field(description="问题里写的单位名（库中没有）")
    name: str = Field(description="库中只差一个字的单位名")
    query: str = Field(description="改正后的问题")


class SearchPublic(PublicModel):
    query: str
    mode: SearchMode = Field(description="实际使用的检索方式：尚无向量时为 bm25")
    answer: AnswerPublic | None = Field(description="问题问「谁负责」时第一条结果写明的分工；其他问题为 null")
    asked_departments: list[str] = Field(description="问题中提到的和按部门筛选的部门（规范名称），结果中以高亮标出")
    results: list[SearchResultPublic] = Field(description="按相关度从高到低；没有足够相关的条款时为空")
    facets: FacetsPublic
    cited_documents: list[DocumentRefPublic] = Field(description="问题只是一个引用（文号、标题或条款）时它所指的文件")
    not_found: str = Field(description="引用所指而库中没有的文件（《民法典》）或条款（第三条）；没有为空")
    closest_documents: list[DocumentRefPublic] = Field(
        description="结果为空（没有足够相关的条款）时，与问题最接近的文件，供参考")
    suggestions: list[SuggestionPublic] = Field(description="疑似写错的单位名及改正后的问题（「市水物局」→ 市水务局）")


# -- documents ---------------------------------------------------------------------------------

class DocumentHeaderPublic(PublicModel):
    id: str = Field(description="文件 ID（由文号或标题决定）")
    title: str
    doc_number: str = Field(description="文号，如 国发〔2018〕42号；没有为空")
    issuers: list[str] = Field(description="发文机关")
    date: str = Field(description="成文日期 yyyy-mm-dd；不详为空")
    level: LevelText
    source: str = Field(description="来源路径或地址")
    sha256: str = Field(description="原文件内容的 SHA-256")
    script: str = Field(description="traditional 繁体 或 simplified 简体")
    format: str = Field(description="原文件格式，如 txt、docx、pdf、ofd")
    encoding: str
    addressees: str = Field(description="主送机关")
    validity: ValidityText = Field(description="有效性：工作人员设定的；否则库中较新的文件废止或修订了它时为 repealed / amended；"
                                               "否则按本文（「自…起施行」为 valid）或清单；都没有为 unknown")


class DocumentSummaryPublic(DocumentHeaderPublic):
    clauses: int = Field(description="条款数")
    tasks: int = Field(description="任务数")


class PagePublic(PublicModel):
    offset: int
    limit: int
    total: int = Field(description="全部项数")


class MatrixRowPublic(PublicModel):
    canonical: str
    name: str = Field(description="文件中写的名称（第一次出现的）")
    cells: dict[str, str] = Field(description="条款 ID → 该单位在这一措施中的角色（lead/co/support）")


class MatrixPublic(PublicModel):
    """责任矩阵：单位（行，牵头措施多者在前）× 本页的措施（列）。"""

    measures: list[ClauseBriefPublic]
    rows: list[MatrixRowPublic]


class RelatedDocumentPublic(PublicModel):
    id: str
    title: str
    level: LevelText


class CounterpartPublic(PublicModel):
    doc_id: str
    clause_id: str
    number: str
    title: str
    leads: list[str] = Field(description="牵头单位（文件中写的名称）")
    differs: bool = Field(description="双方都写明牵头单位且没有共同的牵头机构（上下级对口部门、更名前后的部门算同一机构）")
    similarity: float = Field(description="两条措施的字符三元组 Jaccard 相似度（不低于阈值才算对应）")


class MissingMeasurePublic(PublicModel):
    """上级文件有、本文件没有对应条款的措施。"""

    doc_id: str
    clause_id: str
    number: str
    title: str
    leads: list[str] = Field(description="牵头单位（文件中写的名称）")
    similarity: float = Field(description="本文件中最接近的条款的相似度（低于阈值）")


class CrossCheckRowPublic(PublicModel):
    clause_id: str
    number: str
    title: str
    leads: list[str]
    counterparts: list[CounterpartPublic | None] = Field(description="每个相关文件（顺序同 related）中最接近的措施；"
                                                                     "没有为 null")


class DocumentPagePublic(PublicModel):
    """一个文件的一页条款（与 policykb show --json 相同），加上本页的责任矩阵和上下级对照。"""

    document: DocumentHeaderPublic
    clauses: list[ClausePublic]
    page: PagePublic
    matrix: MatrixPublic
    related: list[RelatedDocumentPublic] = Field(description="其他层级的同主题文件")
    crosscheck: list[CrossCheckRowPublic] = Field(description="本页措施与相关文件的对照")
    crosscheck_status: CrossCheckStatus = Field(
        description="ready 已算好、too_large 措施过多不对照、none 没有相关文件、pending 正在计算（稍后再取）")
    missing_from_this_level: list[MissingMeasurePublic] = Field(
        description="上级有、本级无：更高层级的相关文件中，本文件没有对应条款的措施（上级文件顺序、条款顺序）")


class ReplacedPublic(PublicModel):
    sha256: str = Field(description="被替换版本的 SHA-256")
    title: str = Field(description="被替换版本的标题")
    replaced_at: str = Field(description="替换时间（ISO 8601，UTC）")
    actor: str = Field(description="谁替换的，如 api:客户端地址")


class UploadPublic(PublicModel):
    status: Outcome = Field(
        description="added 新增、replaced 替换了旧版本、unchanged 内容相同未变、older 比库中版本旧，未替换")
    doc_id: str
    title: str
    clauses: int
    permalink: str = Field(description="文件页面的地址")
    replaced: ReplacedPublic | None = Field(description="替换时：被替换的版本；否则为 null")


class DeletedPublic(PublicModel):
    deleted: str = Field(description="已删除的文件 ID")


# -- departments, references, status -----------------------------------------------------------

class DepartmentSummaryPublic(PublicModel):
    canonical: str
    level: LevelText
    roles: RoleCounts
    clauses: int = Field(description="各角色条款数之和")
    documents: int = Field(description="出现在多少个文件中")


class DutyPublic(PublicModel):
    clause_id: str
    number: str
    title: str
    role: RoleText
    name: str = Field(description="该条款中写的单位名称")
    task: str = Field(description="任务原文；承继的职责为空")


class DutyGroupPublic(PublicModel):
    doc_id: str
    doc_title: str
    level: LevelText
    duties: list[DutyPublic]


class CounterpartDepartmentPublic(PublicModel):
    canonical: str
    level: LevelText


class DepartmentDutiesPublic(PublicModel):
    canonical: str
    level: LevelText
    names: list[str] = Field(description="规范名称在前，然后是文件中出现过的其他名称和简称")
    roles: RoleCounts
    counterparts: list[CounterpartDepartmentPublic] = Field(description="其他层级的同一机构，国家级在前")
    page: PagePublic
    documents: list[DutyGroupPublic] = Field(description="本页的职责，按文件分组")


class DepartmentPublic(PublicModel):
    query: str = Field(description="查询的部门名称")
    departments: list[DepartmentDutiesPublic] = Field(description="这个名称所指的各个部门")


class ResolutionPublic(PublicModel):
    ref: str
    documents: list[str] = Field(description="引用所指的文件 ID")
    clauses: list[str] = Field(description="引用所指的条款 ID（指整个文件时为空）")


class EmbeddingProgressPublic(PublicModel):
    encoder: str = Field(description="编码器名称；none 表示不生成向量")
    running: bool
    done: int
    total: int
    error: str = Field(description="后台向量生成的错误；没有为空")


class StatusPublic(PublicModel):
    documents: int
    clauses: int
    tasks: int
    units: int = Field(description="检索单元数（条款和任务）")
    vectors: int = Field(description="已有向量的检索单元数")
    read_only: bool = Field(description="没有配置写入令牌时为 true")
    embedding: EmbeddingProgressPublic
