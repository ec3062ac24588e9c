"""The answer block of `/api/search` (a «谁负责» question's departments by role, the sentence that assigns
them and the same measure at the other levels), and the role and level types the models share."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from ingest import Level, Role
from ingest.records import LeadBasis

from .error_models import PublicModel

RoleText = Annotated[Role, Field(description="角色：" + "、".join(f"{role.value} {role.label}" for role in Role),
                                 examples=["lead"])]
LevelText = Annotated[Level, Field(description="层级：" + "、".join(f"{level.value} {level.label}" for level in Level),
                                   examples=["municipal"])]


class AnswerDepartmentPublic(PublicModel):
    name: str = Field(description="文件中写的单位名称")
    canonical: str = Field(description="规范名称（简体，同一机构一个名称）")
    role: RoleText
    basis: LeadBasis | None = Field(description="牵头单位的来源：stated 文件明确、rule 依文件规则、presumed 按排序推定；"
                                                "其他角色为 null")
    local: bool = Field(description="属地落实：各区人民政府等代表下级各地的单位，及上级标题下统一写明的单位")


class AssignmentPublic(PublicModel):
    clause_id: str
    doc_id: str
    doc_title: str
    level: LevelText
    place: str = Field(description="文件所属地方（武汉市、湖北省、全国）；不详为空")
    number: str = Field(description="条款序号，如 （十二）")
    sentence: str = Field(description="写明分工的那一句（含责任标注，原文用字）")
    departments: list[AnswerDepartmentPublic] = Field(description="牵头单位在前，其余按原文顺序")


class AnswerPublic(AssignmentPublic):
    """「谁负责…」一类问题的答案：第一条结果写明的分工，以及同一措施在其他层级文件中的分工。"""

    topic: str = Field(description="问题问的事项（去掉疑问词和地名），如 污泥处置")
    levels: list[AssignmentPublic] = Field(
        description="同一措施在各层级文件中的分工，国家层级在前；只有一个层级写明时为空")
