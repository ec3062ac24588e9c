"""The service's settings: the one place that reads the environment (POLICYKB_*), validated.

Tests build `Settings(...)` directly and pass it to `create_app`; `policykb serve` uses `get_settings()`.
Every bound on what a client can make the service do (sizes, timeouts, failed token attempts) is a
setting here, with its default in the README's settings table.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from index.encoders import DEFAULT_ENCODER
from ingest.options import DEFAULT_CONVERT_TIMEOUT_S, DEFAULT_MAX_PAGES, ReadOptions, WorkBounds

MIN_TOKEN_CHARS = 16
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
_BOUNDS = WorkBounds()  # the defaults of the reading bounds


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="POLICYKB_", frozen=True, extra="forbid")

    home: Path = Field(Path("~/.policykb"), description="数据目录：SQLite 库、索引文件和上传的原件")
    token: SecretStr | None = Field(None, description=f"写操作（上传、删除）所需的令牌，至少 {MIN_TOKEN_CHARS} 个字符；"
                                                      "不设置时服务只读")
    max_upload_mb: float = Field(20.0, gt=0, le=500, description="上传文件大小上限（MB）")
    encoder: str = Field(DEFAULT_ENCODER, description="向量编码器：e5、sentence-transformers:PATH 或 static:PATH；"
                                                      "none 表示只用关键词检索")
    embed_in_background: bool = Field(True, description="启动后在后台为还没有向量的条款生成向量（可中断，下次继续）")
    host: str = Field("127.0.0.1", description="policykb serve 监听的地址")
    port: int = Field(8000, ge=1, le=65535, description="policykb serve 监听的端口")
    workers: int = Field(1, ge=1, le=64, description="policykb serve 的服务进程数：共用一个监听端口，各自打开索引文件；"
                                                      "后台生成向量只在第一个进程中进行")
    max_pages: int = Field(DEFAULT_MAX_PAGES, ge=1, le=10_000, description="上传的扫描件（OCR）和 OFD 文件的页数上限")
    convert_timeout_s: float = Field(DEFAULT_CONVERT_TIMEOUT_S, gt=0, le=3600,
                                     description="LibreOffice 转换一个 .doc/.wps/.rtf/.odt 文件的时限（秒）")
    # what one uploaded PDF or DOCX may cost to read (ingest.options.WorkBounds; refused over them)
    pdf_max_page_glyphs: int = Field(_BOUNDS.pdf_page_glyphs, ge=1000, description="PDF 一页的字形数上限")
    pdf_max_glyphs: int = Field(_BOUNDS.pdf_glyphs, ge=1000, description="PDF 全部页面的字形数上限")
    pdf_max_page_objects: int = Field(_BOUNDS.pdf_page_objects, ge=1000, description="PDF 一页绘制的路径和图片数上限")
    pdf_max_page_content_mb: int = Field(_BOUNDS.pdf_page_content_bytes // 2**20, ge=1, le=4096,
                                         description="PDF 一页的内容解压后的大小上限（MB，表单按绘制次数计）")
    pdf_max_content_mb: int = Field(_BOUNDS.pdf_content_bytes // 2**20, ge=1, le=16384,
                                    description="PDF 全部页面的内容解压后的大小上限（MB）")
    docx_max_xml_part_mb: int = Field(_BOUNDS.docx_xml_part_bytes // 2**20, ge=1, le=4096,
                                      description="DOCX 一个 XML 部件解压后的大小上限（MB）")
    docx_max_xml_mb: int = Field(_BOUNDS.docx_xml_bytes // 2**20, ge=1, le=16384,
                                 description="DOCX 全部 XML 部件解压后的大小上限（MB）")
    docx_max_xml_elements: int = Field(_BOUNDS.docx_xml_elements, ge=1000, description="DOCX 的 XML 元素数上限")
    docx_max_paragraphs: int = Field(_BOUNDS.docx_paragraphs, ge=100, description="DOCX 的段落数上限")
    locality: str = Field("", max_length=20, description="本部署所在的地方（如 武汉市）：问题不提地方时，本地文件排在前面，"
                                                         "同一措施的各层级合为一条时显示本地的那一条")
    public_url: str | None = Field(None, description="服务对外的地址（导出表格里的链接由它生成）；不设置时为 http://HOST:PORT")
    allowed_hosts: Annotated[tuple[str, ...], NoDecode] = Field(
        LOOPBACK_HOSTS, description="接受的 Host 请求头（逗号分隔；另加 PUBLIC_URL 和 HOST 的主机名）：防 DNS 重绑定")
    auth_max_failures: int = Field(10, ge=1, le=10_000, description="同一客户端在时间窗内令牌错误达到这个次数即被锁定")
    auth_failure_window_seconds: float = Field(60.0, gt=0, le=86_400, description="统计令牌错误次数的时间窗（秒）")
    auth_lockout_seconds: float = Field(300.0, gt=0, le=86_400, description="锁定时长（秒）：期间这个客户端的写请求一律拒绝")
    header_timeout_seconds: float = Field(10.0, gt=0, le=600, description="连接建立后，请求头须在这个时间内收齐（秒）")
    body_timeout_seconds: float = Field(60.0, gt=0, le=3600, description="请求体须在这个时间内收齐（秒），否则 408")
    keep_alive_seconds: int = Field(5, ge=1, le=600, description="两个请求之间空闲连接保留的时间（秒）")
    max_header_kb: int = Field(16, ge=1, le=1024, description="请求行加请求头的大小上限（KB）")
    max_connections: int = Field(100, ge=1, le=100_000, description="同时处理的连接和请求数上限，超过时回答 503")
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
    export_max_rows: int = Field(50_000, ge=1, le=2_000_000, description="督查台账（xlsx/csv，文件或部门）最多导出的行数，超过返回 413")
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
        if value is None or not value.get_secret_value().strip():
            return None
        if len(value.get_secret_value().strip()) < MIN_TOKEN_CHARS:
            raise ValueError(f"POLICYKB_TOKEN 太短：至少 {MIN_TOKEN_CHARS} 个字符（例如 python -c "
                             "'import secrets; print(secrets.token_urlsafe(24))' 生成一个）")
        return SecretStr(value.get_secret_value().strip())

    @field_validator("public_url")
    @classmethod
    def _public_url_is_http(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ValueError("POLICYKB_PUBLIC_URL 须是 http:// 或 https:// 开头的地址，例如 https://kb.example.org/policykb")
        return value.strip().rstrip("/")

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.split(",")
        return tuple(host.strip().lower() for host in value if host.strip()) if isinstance(value, (list, tuple)) else value

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 2**20)

    @property
    def read_options(self) -> ReadOptions:
        bounds = WorkBounds(pdf_page_content_bytes=self.pdf_max_page_content_mb * 2**20,
                            pdf_content_bytes=self.pdf_max_content_mb * 2**20, pdf_page_glyphs=self.pdf_max_page_glyphs,
                            pdf_glyphs=self.pdf_max_glyphs, pdf_page_objects=self.pdf_max_page_objects,
                            docx_xml_part_bytes=self.docx_max_xml_part_mb * 2**20,
                            docx_xml_bytes=self.docx_max_xml_mb * 2**20, docx_xml_elements=self.docx_max_xml_elements,
                            docx_paragraphs=self.docx_max_paragraphs)
        return ReadOptions(max_pages=self.max_pages, convert_timeout_s=self.convert_timeout_s, bounds=bounds)

    @property
    def base_url(self) -> str:
        """Where links that leave the page (exported spreadsheets) point: PUBLIC_URL, else HOST:PORT."""
        if self.public_url:
            return self.public_url
        return f"http://{f'[{self.host}]' if ':' in self.host else self.host}:{self.port}"

    @property
    def trusted_hosts(self) -> frozenset[str]:
        """Host header values served: the allowed hosts, the public URL's host and the listening host."""
        hosts = {*self.allowed_hosts, urlsplit(self.base_url).hostname or ""}
        if self.host not in ("0.0.0.0", "::"):
            hosts.add(self.host.lower())
        return frozenset(host for host in hosts if host)


@functools.cache
def get_settings() -> Settings:
    return Settings()
