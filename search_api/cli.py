"""The `policykb` command line. The only place that prints, shows progress bars and configures logging.

Data directory: --home DIR, else $POLICYKB_HOME, else ~/.policykb.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from tqdm import tqdm

from index import FileResult, Store, expand_paths, ingest_paths
from ingest.errors import PolicyKBError
from ingest.readers import DEFAULT_MAX_BYTES

from .views import document_json

DEFAULT_HOME = Path("~/.policykb")
_STATUS_TEXT = {"added": "新增", "replaced": "更新", "unchanged": "未变", "older": "旧版未替换", "failed": "失败"}
_LEVEL_TEXT = {"national": "国家", "provincial": "省级", "municipal": "市级", "district": "区县", "unknown": "未知"}
_ROLE_TEXT = {"lead": "牵头", "co": "责任", "support": "配合", "inherited": "承继"}


def home_directory(argument: str | None) -> Path:
    return Path(argument or os.environ.get("POLICYKB_HOME") or DEFAULT_HOME).expanduser()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="policykb", description="政策文件知识库：导入、查看条款与责任单位")
    parser.add_argument("--home", help="数据目录（默认 $POLICYKB_HOME，否则 ~/.policykb）")
    parser.add_argument("-v", "--verbose", action="store_true", help="输出调试日志")
    commands = parser.add_subparsers(dest="command", required=True)
    ingest = commands.add_parser("ingest", help="导入文件或文件夹（txt/html/docx/pdf/md）")
    ingest.add_argument("paths", nargs="+", type=Path, help="文件或文件夹")
    ingest.add_argument("--max-mb", type=float, default=DEFAULT_MAX_BYTES / 2**20, help="单个文件大小上限（MB）")
    docs = commands.add_parser("docs", help="列出已导入的文件")
    docs.add_argument("--json", action="store_true", help="输出 JSON")
    show = commands.add_parser("show", help="显示一个文件的条款、任务和责任单位")
    show.add_argument("doc_id", help="文件 ID（见 policykb docs）")
    show.add_argument("--json", action="store_true", help="输出 JSON")
    return parser


def main(argv: list[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if arguments.verbose else logging.ERROR,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        with Store.open(home_directory(arguments.home)) as store:
            return {"ingest": run_ingest, "docs": run_docs, "show": run_show}[arguments.command](store, arguments)
    except PolicyKBError as error:
        print(f"错误：{error}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `policykb show … | head`
        sys.stderr.close()
        return 0


def run_ingest(store: Store, arguments: argparse.Namespace) -> int:
    files = expand_paths(arguments.paths)
    with tqdm(total=len(files), desc="导入", unit="件", file=sys.stderr, disable=None) as progress:
        def report(result: FileResult) -> None:
            progress.update(1)
            if result.status == "failed":
                progress.write(f"失败 {result.error}", file=sys.stderr)

        results = ingest_paths(store, files, max_bytes=int(arguments.max_mb * 2**20), on_result=report)
    counts = {status: sum(result.status == status for result in results) for status in _STATUS_TEXT}
    print("，".join(f"{_STATUS_TEXT[status]} {count}" for status, count in counts.items()) + f"（共 {len(results)} 个文件）")
    return 1 if counts["failed"] else 0


def run_docs(store: Store, arguments: argparse.Namespace) -> int:
    documents = store.documents()
    if arguments.json:
        print(json.dumps([document_json(document)["document"] for document in documents], ensure_ascii=False, indent=2))
        return 0
    if not documents:
        print("还没有导入文件。用 policykb ingest PATH 导入。")
        return 0
    for document in documents:
        print(f"{document.id}\t{_LEVEL_TEXT.get(document.level, document.level)}\t{document.date or '—'}\t"
              f"{document.doc_number or '—'}\t{document.title}")
    print(f"共 {len(documents)} 个文件")
    return 0


def run_show(store: Store, arguments: argparse.Namespace) -> int:
    document = store.document(arguments.doc_id)
    if arguments.json:
        print(json.dumps(document_json(document), ensure_ascii=False, indent=2))
        return 0
    print(f"{document.title}  {document.doc_number}  {document.date}\n")
    for clause in document.clauses:
        departments = "、".join(f"{item.name}（{_ROLE_TEXT[item.role]}）" for item in clause.departments)
        print(f"[{clause.id}] {clause.number}{clause.title or clause.text[:30].replace(chr(10), ' ')}")
        if departments:
            print(f"    责任单位：{departments}")
    return 0
