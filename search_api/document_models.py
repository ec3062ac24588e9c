"""Bodies of the documents' validity and history routes (PUT …/validity, GET …/history); the rest are
in models.py, which uses `ValidityText` from here. The same rules: one `*Public` model per body,
fields in the order the views write their keys, no undeclared keys.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from index.versions import ClauseChangeKind
from ingest.records import Validity

from .error_models import PublicModel

ValidityText = Annotated[Validity, Field(description="有效性：" + "、".join(f"{item.value} {item.label}" for item in Validity),
                                         examples=["valid"])]


class ValidityRequest(PublicModel):
    """PUT /api/documents/{doc_id}/validity 的请求体。"""

    validity: Validity | None = Field(description="设定的有效性；null 取消设定，恢复按文本和较新文件判断",
                                      examples=["repealed"])


class ValidityMarkPublic(PublicModel):
    validity: ValidityText
    actor: str = Field(description="谁设定的，如 api:127.0.0.1")
    marked_at: str = Field(description="设定时间（UTC，ISO 8601）")


class ValidityPublic(PublicModel):
    id: str = Field(description="文件 ID")
    validity: ValidityText = Field(description="现在的有效性（设定之后）")
    mark: ValidityMarkPublic | None = Field(description="工作人员的设定；没有为 null")


class ClauseChangePublic(PublicModel):
    kind: ClauseChangeKind = Field(description="added 新增、removed 删除、changed 修改")
    clause_id: str
    number: str = Field(description="条款编号（删除的条款为旧版的编号）")
    title: str
    old_text: str = Field(description="旧版原文；新增的条款为空")
    new_text: str = Field(description="新版原文；删除的条款为空")


class VersionPublic(PublicModel):
    replaced_at: str = Field(description="被替换的时间（UTC，ISO 8601）")
    actor: str = Field(description="谁替换的，如 cli:USER、api:CLIENT-ADDRESS")
    old_sha256: str
    old_title: str
    new_sha256: str
    new_title: str
    recorded: bool = Field(description="旧版条款是否存有（格式 5 之前的替换没有存，changes 为空）")
    changes: list[ClauseChangePublic] = Field(description="与替换它的版本相比，逐条的变化")


class HistoryPublic(PublicModel):
    """一个文件被替换过的版本（新的在前），每个版本与替换它的版本逐条对比。"""

    id: str
    title: str
    versions: list[VersionPublic]
