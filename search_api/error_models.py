"""The one error body of the JSON routes under /api, the statuses each route declares with it, and the
schema clean-up that leaves FastAPI's unsent 422 body out of /openapi.json. Every non-2xx answer is an
`ErrorResponse` (`app.error_response`); `error_responses` declares them per route.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema


class PublicModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorDetailPublic(PublicModel):
    location: str = Field(description="出错的参数，如 query.k")
    message: str


class ErrorPublic(PublicModel):
    status: int = Field(description="HTTP 状态码，与响应的状态码相同")
    code: str = Field(description="错误类别，如 not_found、invalid_request、too_large、busy", examples=["not_found"])
    message: str = Field(description="给人看的说明，说明下一步怎么做")
    details: list[ErrorDetailPublic] | SkipJsonSchema[None] = Field(
        default=None, description="参数校验失败时：每个不正确的参数（其他错误没有这一项）")


class ErrorResponse(PublicModel):
    """每个非 2xx 响应的形状（/api 下）。"""

    error: ErrorPublic


ERROR_TEXT = {
    400: "请求无法解析（如损坏的 multipart 请求体）", 401: "缺少或错误的写入令牌", 403: "服务只读：没有配置写入令牌",
    404: "没有这个文件、条款、部门或引用", 408: "请求体没有在时限内传完", 409: "库中已有这个文件的另一版本（请用 replace 参数）",
    413: "超过大小或行数上限", 415: "不支持的文件类型", 422: "参数不正确（details 列出每个参数）",
    429: "请求过多：长查询或导出排队已满，或令牌错误次数过多被暂时锁定", 503: "服务忙或数据库、索引暂时不可用；请稍后重试",
}


def error_responses(*statuses: int, json_route: bool = True) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: each status with the one error shape and what it means. FastAPI files a
    response model under the route's media type, so a route that sends a file (not `json_route`) names
    the JSON body by reference (`ErrorResponse` is in the schema: the JSON routes declare it)."""
    if json_route:
        return {status: {"model": ErrorResponse, "description": ERROR_TEXT[status]} for status in statuses}
    body = {"application/json": {"schema": {"$ref": f"#/components/schemas/{ErrorResponse.__name__}"}}}
    return {status: {"description": ERROR_TEXT[status], "content": body} for status in statuses}



_UNSENT_SCHEMAS = ("HTTPValidationError", "ValidationError")  # FastAPI's {"detail": [...]}: never sent here


def without_unsent_bodies(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` (an OpenAPI document from FastAPI) less the 422 `{"detail": [...]}` body FastAPI adds to
    every operation with parameters: app.py answers every invalid request with an `ErrorResponse`, and a
    route that can answer 422 declares it with `error_responses`."""
    paths = {path: {method: {**operation, "responses": _sent(operation.get("responses", {}))}
                    for method, operation in operations.items()}
             for path, operations in schema.get("paths", {}).items()}
    components = dict(schema.get("components", {}))
    components["schemas"] = {name: value for name, value in components.get("schemas", {}).items()
                             if name not in _UNSENT_SCHEMAS}
    return {**schema, "paths": paths, "components": components}


def _sent(responses: dict[str, Any]) -> dict[str, Any]:
    unsent = f"#/components/schemas/{_UNSENT_SCHEMAS[0]}"
    return {status: response for status, response in responses.items()
            if response.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref") != unsent}
