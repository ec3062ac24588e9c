"""The service's settings: the one place that reads the environment (POLICYKB_*), validated.

Tests build `Settings(...)` directly and pass it to `create_app`; `policykb serve` uses `get_settings()`.
"""

from __future__ import annotations

import functools
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from index.encoders import DEFAULT_ENCODER
from ingest.options import DEFAULT_CONVERT_TIMEOUT_S, DEFAULT_MAX_PAGES, ReadOptions


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="POLICYKB_", frozen=True, extra="forbid")

    home: Path = Field(Path("~/.policykb"), description="数据目录：SQLite 库、索引文件和上传的原件")
    token: SecretStr | None = Field(None, description="写操作（上传、删除）所需的令牌；不设置时服务只读")
    max_upload_mb: float = Field(20.0, gt=0, le=500, description="上传文件大小上限（MB）")
    encoder: str = Field(DEFAULT_ENCODER, description="向量编码器：e5、sentence-transformers:PATH 或 static:PATH；"
                                                      "none 表示只用关键词检索")
    embed_in_background: bool = Field(True, description="启动后在后台为还没有向量的条款生成向量（可中断，下次继续）")
    host: str = Field("127.0.0.1", description="policykb serve 监听的地址")
    port: int = Field(8000, ge=1, le=65535, description="policykb serve 监听的端口")
    max_pages: int = Field(DEFAULT_MAX_PAGES, ge=1, le=10_000, description="上传的扫描件（OCR）和 OFD 文件的页数上限")
    convert_timeout_s: float = Field(DEFAULT_CONVERT_TIMEOUT_S, gt=0, le=3600,
                                     description="LibreOffice 转换一个 .doc/.wps/.rtf/.odt 文件的时限（秒）")

    @field_validator("home")
    @classmethod
    def _expand_home(cls, value: Path) -> Path:
        return value.expanduser()

    @field_validator("token")
    @classmethod
    def _blank_token_is_none(cls, value: SecretStr | None) -> SecretStr | None:
        return value if value is not None and value.get_secret_value().strip() else None

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 2**20)

    @property
    def read_options(self) -> ReadOptions:
        return ReadOptions(max_pages=self.max_pages, convert_timeout_s=self.convert_timeout_s)


@functools.cache
def get_settings() -> Settings:
    return Settings()
