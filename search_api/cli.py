"""The `policykb` command line. The only place that prints, shows progress bars and configures logging.

Data directory: --home DIR, else $POLICYKB_HOME, else ~/.policykb.
"""

from __future__ import annotations

import argparse
import getpass
import html
import json
import logging
import os
import re
import sys
from pathlib import Path

from tqdm import tqdm

from index import FileResult, Store, expand_paths, ingest_paths
from index.dense import embed_missing, export_vectors, has_vectors, import_vectors
from index.encoders import DEFAULT_ENCODER, load_encoder
from index.resolve import resolve
from index.rows import Outcome
from index.search import FusionWeights, Searcher, SearchFilters, SearchMode
from ingest import Level, Role
from ingest.errors import NotFound, PolicyKBError
from ingest.options import DEFAULT_CONVERT_TIMEOUT_S, DEFAULT_MAX_PAGES, ReadOptions
from ingest.readers import DEFAULT_MAX_BYTES

from .measure import run_bench, run_load
from .views import document_json, hit_json

DEFAULT_HOME = Path("~/.policykb")


def home_directory(argument: str | None) -> Path:
    return Path(argument or os.environ.get("POLICYKB_HOME") or DEFAULT_HOME).expanduser()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="policykb", description="政策文件知识库：导入、查看条款与责任单位")
    parser.add_argument("--home", help="数据目录（默认 $POLICYKB_HOME，否则 ~/.policykb）")
    parser.add_argument("-v", "--verbose", action="store_true", help="输出调试日志")
    commands = parser.add_subparsers(dest="command", required=True)
    ingest = commands.add_parser("ingest", help="导入文件或文件夹（txt/html/md/docx/pdf、扫描件和图片、ofd、doc/wps/rtf/odt）")
    ingest.add_argument("paths", nargs="+", type=Path, help="文件或文件夹")
    ingest.add_argument("--max-mb", type=float, default=DEFAULT_MAX_BYTES / 2**20, help="单个文件大小上限（MB）")
    ingest.add_argument("--max-pages", type=int, default=DEFAULT_MAX_PAGES,
                        help=f"扫描件（OCR）和 OFD 的页数上限（默认 {DEFAULT_MAX_PAGES}）")
    ingest.add_argument("--convert-timeout", type=float, default=DEFAULT_CONVERT_TIMEOUT_S,
                        help=f"LibreOffice 转换 .doc/.wps/.rtf/.odt 的时限（秒，默认 {DEFAULT_CONVERT_TIMEOUT_S:g}）")
    docs = commands.add_parser("docs", help="列出已导入的文件")
    docs.add_argument("--json", action="store_true", help="输出 JSON")
    show = commands.add_parser("show", help="显示一个文件的条款、任务和责任单位")
    show.add_argument("doc_id", help="文件 ID（见 policykb docs）")
    show.add_argument("--json", action="store_true", help="输出 JSON")
    delete = commands.add_parser("delete", help="从库中删除文件（连同它们的条款和索引行），每个文件一个事务")
    delete.add_argument("doc_ids", nargs="+", metavar="doc_id", help="文件 ID（见 policykb docs）")
    search = commands.add_parser("search", help="检索条款（关键词 + 语义，融合排序）")
    search.add_argument("query", help="问题或关键词，例如：谁负责污泥处置？")
    search.add_argument("-k", type=int, default=10, help="返回条数（默认 10）")
    search.add_argument("--doc", help="只在这个文件内检索（文件 ID）")
    search.add_argument("--dept", help="只看这个部门负责的条款（任何简称或全称）")
    search.add_argument("--role", choices=[role.value for role in Role], help="与 --dept 合用：部门角色")
    search.add_argument("--tag", help="主题或措施标签，例如 固废、目标指标")
    search.add_argument("--level", choices=[level.value for level in Level], help="文件层级")
    search.add_argument("--year", type=int, help="目标年份，例如 2025")
    search.add_argument("--mode", choices=[mode.value for mode in SearchMode], default="hybrid", help="hybrid（默认）、bm25 或 dense")
    search.add_argument("--encoder", default=DEFAULT_ENCODER, help="向量编码器（默认 e5）")
    search.add_argument("--locality", default="", help="所在地方（如 武汉市）：问题不提地方时本地文件在前")
    search.add_argument("--json", action="store_true", help="输出 JSON")
    resolve_command = commands.add_parser("resolve", help="把引用（《文件》第（十二）项、民法典第三条）解析为条款")
    resolve_command.add_argument("ref", help="引用文字")
    resolve_command.add_argument("--json", action="store_true", help="输出 JSON")
    evaluate = commands.add_parser("eval", help="在政策问题集上评测各检索系统，写出结果表")
    evaluate.add_argument("--set", dest="question_set", default="policy",
                          choices=["policy", "stard", "attribution", "ranking", "answers", "crosscheck"],
                          help="policy：政策问题集（默认）；stard：STARD 法条检索（数据目录需已导入法律）；"
                               "attribution：责任单位标注对照人工标注；ranking：排序问题集（数据目录需已导入"
                               "内置语料和 2026 年政府工作报告）；crosscheck：上下级对照的阈值与准确率"
                               "（数据目录需已导入内置语料的三份减污降碳方案）；answers：「谁负责」问题的答案块牵头单位")
    evaluate.add_argument("--stard", type=Path, default=None, help="STARD train.jsonl 路径（默认 ../shared/eval/stard）")
    evaluate.add_argument("--modes", default="bm25,dense,hybrid,bigram", help="逗号分隔：bm25,dense,hybrid,bigram")
    evaluate.add_argument("--encoder", default=DEFAULT_ENCODER, help="向量编码器（默认 e5）")
    where = evaluate.add_mutually_exclusive_group()
    where.add_argument("--out", type=Path, default=None, help="结果目录（默认 数据目录/eval；基线 eval/results 不变）")
    where.add_argument("--record", action="store_true", help="结果写入 eval/results，替换测试对照的基线")
    evaluate.add_argument("--rrf-k", type=int, default=FusionWeights.k, help=f"融合常数 k（默认 {FusionWeights.k}）")
    distill = commands.add_parser("distill", help="从 e5 蒸馏一个快速静态编码器（词表取自数据目录中的文本）")
    distill.add_argument("out", type=Path, help="模型输出目录")
    distill.add_argument("--words", type=int, default=30_000, help="词表大小（默认 30000）")
    distill.add_argument("--dim", type=int, default=256, help="维度（默认 256）")
    bench = commands.add_parser("bench", help="在合成的大规模语料上测吞吐和延迟（数据目录需已导入内置语料）")
    bench.add_argument("--units", type=int, default=100_000, help="合成语料的条款数（默认 100000）")
    bench.add_argument("--work", type=Path, default=Path("/tmp/policykb-bench"), help="工作目录（合成语料与临时库）")
    bench.add_argument("--encoder", default=DEFAULT_ENCODER, help="向量编码器（大规模建议 static:PATH）")
    bench.add_argument("--out", type=Path, default=None, help="结果目录（默认 eval/results）")
    bench.add_argument("--http-seconds", type=float, default=20.0,
                       help="之后再通过 HTTP 压测这个库的秒数（8 个并发客户端；0 = 不测）")
    bench.add_argument("--workers", type=int, default=1, help="HTTP 压测时的服务进程数（默认 1）")
    load = commands.add_parser("load", help="启动服务并通过 HTTP 压测检索（本机回环、限时），写出延迟结果")
    load.add_argument("--clients", type=int, default=8, help="并发客户端数（默认 8）")
    load.add_argument("--seconds", type=float, default=20.0, help="并发压测时长（秒，默认 20；单客户端另测一半时长）")
    load.add_argument("--encoder", default=DEFAULT_ENCODER, help="服务使用的向量编码器（默认 e5）")
    load.add_argument("--mode", choices=[mode.value for mode in SearchMode], default="hybrid", help="检索方式（默认 hybrid）")
    load.add_argument("--workers", type=int, default=1, help="服务进程数（policykb serve --workers，默认 1）")
    load.add_argument("--writes", action="store_true", help="再在库的副本上测一次：并发检索时另有客户端不断上传、替换小文件")
    load.add_argument("--out", type=Path, default=None, help="结果目录（默认 eval/results）")
    serve = commands.add_parser("serve", help="启动检索服务和网页（设置见 README：POLICYKB_TOKEN 等）")
    serve.add_argument("--host", default=None, help="监听地址（默认 127.0.0.1，或 $POLICYKB_HOST）")
    serve.add_argument("--port", type=int, default=None, help="端口（默认 8000，或 $POLICYKB_PORT）")
    serve.add_argument("--workers", type=int, help="服务进程数（默认 1，或 $POLICYKB_WORKERS）：共用一个端口，每核一个")
    embed = commands.add_parser("embed", help="为还没有向量的条款生成向量（可中断，下次继续）")
    embed.add_argument("--encoder", default=DEFAULT_ENCODER, help="向量编码器（默认 e5）")
    embed.add_argument("--batch", type=int, default=16, help="每批条数")
    embed.add_argument("--export", type=Path, help="把已生成的向量导出到 .npz 文件")
    embed.add_argument("--import", dest="import_path", type=Path, help="先从 .npz 文件导入向量（同一编码器）")
    embed.add_argument("--no-embed", action="store_true", help="只导入/导出，不生成缺少的向量（交给服务在后台生成）")
    return parser


def main(argv: list[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if arguments.verbose else logging.ERROR,
                        format="%(levelname)s %(name)s: %(message)s")
    if arguments.command == "serve":
        return run_serve(arguments)
    try:
        with Store.open(home_directory(arguments.home)) as store:
            commands = {"ingest": run_ingest, "docs": run_docs, "show": run_show, "delete": run_delete,
                        "search": run_search, "resolve": run_resolve, "embed": run_embed, "eval": run_eval,
                        "distill": run_distill, "bench": run_bench, "load": run_load}
            return commands[arguments.command](store, arguments)
    except PolicyKBError as error:
        print(f"错误：{error}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `policykb show … | head`
        sys.stderr.close()
        return 0


def run_serve(arguments: argparse.Namespace) -> int:
    """Serve the API and the page with uvicorn; settings from the environment, --home/--host/--port/--workers win."""
    from pydantic import ValidationError

    from .server import serve
    from .settings import Settings

    overrides = {key: value for key, value in (("host", arguments.host), ("port", arguments.port),
                                               ("workers", arguments.workers)) if value}
    if arguments.home or not os.environ.get("POLICYKB_HOME"):
        overrides["home"] = home_directory(arguments.home)
    try:
        settings = Settings(**overrides)
    except ValidationError as error:  # the messages only: a setting's value (the token) is never printed
        problems = "；".join(f"{'.'.join(map(str, item['loc']))}: {item['msg']}" for item in error.errors())
        print(f"错误：设置不正确：{problems}", file=sys.stderr)
        return 2
    logging.getLogger().setLevel(logging.DEBUG if arguments.verbose else logging.INFO)
    print(f"policykb 服务：http://{settings.host}:{settings.port}/ （数据目录 {settings.home}，"
          f"{'只读' if settings.token is None else '可写'}，{settings.workers} 个进程）", file=sys.stderr)
    return serve(settings)


def run_ingest(store: Store, arguments: argparse.Namespace) -> int:
    files = expand_paths(arguments.paths)
    with tqdm(total=len(files), desc="导入", unit="件", file=sys.stderr, disable=None) as progress:
        def report(result: FileResult) -> None:
            progress.update(1)
            if result.status == Outcome.FAILED:
                progress.write(f"失败 {result.error}", file=sys.stderr)

        options = ReadOptions(max_pages=arguments.max_pages, convert_timeout_s=arguments.convert_timeout,
                              on_page=_page_progress())
        results = ingest_paths(store, files, max_bytes=int(arguments.max_mb * 2**20), on_result=report,
                               actor=f"cli:{_user()}", options=options)
    shown = (Outcome.ADDED, Outcome.REPLACED, Outcome.UNCHANGED, Outcome.OLDER, Outcome.FAILED)
    counts = {status: sum(result.status == status for result in results) for status in shown}
    print("，".join(f"{status.label} {count}" for status, count in counts.items()) + f"（共 {len(results)} 个文件）")
    return 1 if counts[Outcome.FAILED] else 0


def _page_progress():
    """A callback drawing a second bar for the pages of the file being OCR'd."""
    bar: tqdm | None = None

    def advance(done: int, total: int) -> None:
        nonlocal bar
        if bar is None or done == 1:  # a new file (or one whose reading failed half-way)
            if bar is not None:
                bar.close()
            bar = tqdm(total=total, desc="OCR", unit="页", file=sys.stderr, disable=None, leave=False)
        bar.update(done - bar.n)
        if done >= total:
            bar.close()
            bar = None

    return advance


def _user() -> str:
    """Who runs the command, for the store's record of replacements."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return str(os.getuid())


def run_docs(store: Store, arguments: argparse.Namespace) -> int:
    documents = store.documents()
    if arguments.json:
        print(json.dumps([document_json(document)["document"] for document in documents], ensure_ascii=False, indent=2))
        return 0
    if not documents:
        print("还没有导入文件。用 policykb ingest PATH 导入。")
        return 0
    for document in documents:
        print(f"{document.id}\t{document.level.label}\t{document.date or '—'}\t"
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
        departments = "、".join(f"{item.name}（{item.role.label}）" for item in clause.departments)
        print(f"[{clause.id}] {clause.number}{clause.title or clause.text[:30].replace(chr(10), ' ')}")
        if departments:
            print(f"    责任单位：{departments}")
    return 0


def run_delete(store: Store, arguments: argparse.Namespace) -> int:
    failed = 0
    for doc_id in arguments.doc_ids:
        try:
            store.delete_document(doc_id)
            print(f"已删除 {doc_id}")
        except NotFound as error:
            print(f"失败 {error}", file=sys.stderr)
            failed += 1
    return 1 if failed else 0


def run_search(store: Store, arguments: argparse.Namespace) -> int:
    encoder = None
    if arguments.mode != "bm25":
        encoder = load_encoder(arguments.encoder)
        if not has_vectors(store, encoder.name):
            print("提示：还没有生成向量，只用关键词检索；运行 policykb embed 生成向量。", file=sys.stderr)
            encoder = None
    filters = SearchFilters(arguments.doc, arguments.dept, arguments.role, arguments.tag, arguments.level,
                            arguments.year)
    outcome = Searcher(store, encoder, locality=arguments.locality).find(
        arguments.query, arguments.k, filters, arguments.mode if encoder or arguments.mode == "bm25" else "bm25")
    hits = outcome.hits
    if arguments.json:
        print(json.dumps({"query": arguments.query, "results": [hit_json(hit) for hit in hits]},
                         ensure_ascii=False, indent=2))
        return 0
    for typed, name in outcome.suggestions:
        print(f"您是不是要找「{name}」？（问题里写的是「{typed}」）")
    if not hits:
        print("没有找到相关条款。可以换个说法、去掉筛选条件，或检查文件是否已导入（policykb docs）。")
    if outcome.closest:
        print("与问题最接近的文件：" + "、".join(f"{title}（{doc_id}）" for doc_id, title in outcome.closest))
    for rank, hit in enumerate(hits, start=1):
        departments = "、".join(f"{item.name}（{item.role.label}）" for item in hit.departments[:6])
        print(f"{rank}. [{hit.clause_id}] {hit.doc_title} › {' › '.join(hit.heading_path)} {hit.number}{hit.title}")
        print(f"   {snippet(hit.highlight)}")
        if departments:
            print(f"   责任单位：{departments}")
    return 0


def snippet(highlight: str, width: int = 140) -> str:
    """Plain text around the first highlighted word, with the marks shown as **…**."""
    text = html.unescape(re.sub("</?mark>", "**", highlight))
    start = max(0, text.find("**") - width // 3)
    return ("…" if start else "") + text[start:start + width] + ("…" if start + width < len(text) else "")


def run_resolve(store: Store, arguments: argparse.Namespace) -> int:
    resolution = resolve(store, arguments.ref)
    if arguments.json:
        print(json.dumps({"ref": arguments.ref, "documents": list(resolution.documents),
                          "clauses": list(resolution.clauses)}, ensure_ascii=False, indent=2))
    elif resolution.clauses:
        clauses = store.clauses(list(resolution.clauses))
        for clause_id in resolution.clauses:
            print(f"[{clause_id}] {clauses[clause_id].number}{clauses[clause_id].title or clauses[clause_id].text[:40]}")
    elif resolution.documents:
        print("\n".join(resolution.documents))
    if not resolution.clauses and not resolution.documents:
        print(f"找不到「{arguments.ref}」所指的文件或条款；请检查书名号内的标题或条款编号。", file=sys.stderr)
        return 1
    return 0


def run_embed(store: Store, arguments: argparse.Namespace) -> int:
    encoder = load_encoder(arguments.encoder)
    if arguments.import_path:
        print(f"导入向量 {import_vectors(store, arguments.import_path, encoder.name)} 条")
    if not arguments.no_embed:
        with tqdm(desc="生成向量", unit="条", file=sys.stderr, disable=None) as progress:
            done = embed_missing(store, encoder, batch_size=arguments.batch,
                                 on_batch=lambda finished, total: _advance(progress, finished, total))
        print(f"生成向量 {done} 条（编码器 {encoder.name}）")
    if arguments.export:
        print(f"导出向量 {export_vectors(store, encoder.name, arguments.export)} 条到 {arguments.export}")
    return 0


def _advance(progress: tqdm, done: int, total: int) -> None:
    progress.total = total
    progress.update(done - progress.n)


def run_eval(store: Store, arguments: argparse.Namespace) -> int:
    from eval.run import (RESULTS, drift_from_baseline, markdown_table, output_folder, realworld_table, recorded_scores,
                          run_answers_eval, run_attribution_eval, run_policy_eval, run_ranking_eval,
                          run_realworld_eval, run_stard_eval)
    from eval.stard import DEFAULT_PATH

    out = output_folder(store.path.parent, arguments.out, arguments.record)
    if arguments.question_set == "attribution":
        result = run_attribution_eval(store, out)
        rows = [(label, result[label]) for label in ("all", "lead", "co", "support", "inherited")]
        for label, scores in rows + list(result["by_document"].items()):
            print(f"{label}\t" + ("—" if scores is None else "\t".join(f"{k} {v:.3f}" for k, v in scores.items())))
        realworld = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "realworld"
        if realworld.is_dir():
            print(realworld_table(run_realworld_eval(realworld, out)))
        else:
            print(f"（未找到 {realworld}：跳过真实文件的责任单位评测）")
        return 0
    if arguments.question_set == "crosscheck":
        from eval.crosscheck import crosscheck_table, run_crosscheck_eval
        print(crosscheck_table(run_crosscheck_eval(store, out)))
        return 0
    modes = tuple(mode.strip() for mode in arguments.modes.split(",") if mode.strip())
    encoder = load_encoder(arguments.encoder) if {"dense", "hybrid"} & set(modes) else None
    weights = FusionWeights(k=arguments.rrf_k)
    if arguments.question_set == "stard":
        path = arguments.stard or DEFAULT_PATH
        if not path.is_file():
            print(f"错误：找不到 STARD 数据 {path}；用 --stard 指定 train.jsonl", file=sys.stderr)
            return 2
        results = run_stard_eval(store, encoder, modes, path, out, weights)
        for level in ("systems", "law_level"):
            for name, scores in results[level].items():
                print(f"{'法条' if level == 'systems' else '法律'}\t{name}\tR@10 {scores['R@10']:.3f}\t"
                      f"R@100 {scores['R@100']:.3f}\tMRR@10 {scores['MRR@10']:.3f}")
        return 0
    if arguments.question_set == "answers":
        run_answers_eval(store, encoder, out)
        print((out / "answers.md").read_text(encoding="utf-8"))
        return 0
    if arguments.question_set == "ranking":
        run_ranking_eval(store, encoder, tuple(mode for mode in modes if mode != "bigram"), out, weights)
        print((out / "ranking.md").read_text(encoding="utf-8"))
        return 0
    baseline = recorded_scores(RESULTS / "policy.json")  # read before a --record replaces it
    results = run_policy_eval(store, encoder, modes, out, weights)
    print(markdown_table(results, "clause"))
    print("\n".join(drift_from_baseline(results, baseline)) or "与基线 eval/results 相同")
    print(f"结果已写入 {out}" + ("（已替换基线）" if arguments.record else "；更新基线：policykb eval --record"))
    return 0


def run_distill(store: Store, arguments: argparse.Namespace) -> int:
    from index.distill import distill
    from index.segment import segmenter

    teacher = load_encoder("e5")
    with tqdm(desc="教师编码", unit="词", file=sys.stderr, disable=None) as progress:
        folder = distill(store, teacher, segmenter(), arguments.out, max_words=arguments.words,
                         dimensions=arguments.dim, on_batch=lambda done, total: _advance(progress, done, total))
    print(f"静态编码器已保存到 {folder}；使用方法：policykb embed --encoder static:{folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
