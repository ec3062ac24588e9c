"""The service's settings: the one place that reads the environment (POLICYKB_*), validated.

Tests build `Settings(...)` directly and pass it to `create_app`; `policykb serve` uses `get_settings()`.
"""

from __future__ import annotations

import functools
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from index.encoders import DEFAULT_ENCODER


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
    # -- bounded work (issue 12): every cost a request can cause has a limit ------------------------
    max_query_chars: int = Field(500, ge=10, le=5000, description="检索内容的长度上限（字），超过返回 422")
    analysed_query_chars: int = Field(200, ge=10, le=5000, description="检索内容只分析、分词、高亮前这么多字")
    encoded_query_chars: int = Field(64, ge=8, le=512, description="向量编码器只编码检索内容的前这么多字")
    long_query_chars: int = Field(40, ge=1, description="超过这么多字的检索算长查询，排队使用长查询通道")
    long_query_slots: int = Field(1, ge=1, le=64, description="同时进行的长查询和导出数")
    per_client_long_queries: int = Field(1, ge=1, le=64, description="同一客户端（地址）同时进行或等待的长查询和导出数")
    read_connections: int = Field(8, ge=1, le=64, description="读取连接数：同时处理的读请求数")
    busy_wait_seconds: float = Field(10.0, gt=0, le=300, description="请求等待读取连接或长查询通道的最长时间，超过返回 503")
    busy_timeout_seconds: float = Field(5.0, gt=0, le=300,
                                        description="另一程序占用数据库写锁时，写入最多等待的秒数，超过返回 503")
    page_size: int = Field(200, ge=1, le=10_000, description="文件页、部门页每页默认的条款或任务数")
    max_page_size: int = Field(1000, ge=1, le=100_000, description="limit 参数允许的最大值")
    export_max_rows: int = Field(50_000, ge=1, le=2_000_000, description="任务分工表（xlsx/csv）最多导出的行数，超过返回 413")
    crosscheck_max_measures: int = Field(500, ge=0, description="措施多于这个数的文件不做上下级对照")
    crosscheck_wait_seconds: float = Field(20.0, ge=0, le=600,
                                           description="文件页等待后台计算上下级对照的最长时间，超时先显示“计算中”")
    check_store_at_start: bool = Field(True, description="启动时用 quick_check 检查数据库文件是否损坏")
    reclaim_wal_mb: float = Field(64.0, gt=0, description="写入后 WAL 文件超过这么多 MB 时检查点并截断")
    reclaim_free_share: float = Field(0.25, gt=0, lt=1, description="空闲页超过数据库这个比例时回收磁盘空间")
    shutdown_timeout_seconds: int = Field(10, ge=1, le=600,
                                          description="收到 SIGTERM 后等待进行中的请求的最长秒数，之后取消它们")

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


@functools.cache
def get_settings() -> Settings:
    return Settings()
