"""OCR quality and speed: the seed plan as a scan, against the same plan's text PDF.

    python -m eval.ocr_bench [--dpi 150] [--out eval/results] [--shared ../shared]

The scan is made as the tests make it (tests/render.py): the seed in the official layout (reportlab),
every page rasterised at 150 dpi by pdfium, turned by ±1°, blurred, speckled, a red seal stamped over
the signature block, saved as JPEG and put into an image-only PDF. Both PDFs are read by the real
pipeline, stage by stage (the same calls `pdf_reader.read_pdf` makes), so the OCR share of ingest
time is measured, not estimated. Reported:

- CER: Levenshtein distance between the OCR'd and the text PDF's paragraphs (whitespace removed,
  matching copy: full-width forms folded), over the text version's length;
- pages per second of rendering + OCR (wall clock), and the CPU seconds one page costs (all threads:
  on a shared machine the wall clock says how busy it was, the CPU time what OCR costs);
- measures found (clauses of kind item) against the text version's, clause ids equal or not;
- departments exact: of the text version's departments (canonical names), those whose every
  (clause, role) assignment is the same in the scan; a name misread by OCR counts as wrong;
- with --shared: the image-only PDF of 国发〔2018〕39号 in ../shared/corpus/pdf against its text.

Writes eval/results/ocr-bench.json. Timings are wall-clock on whatever machine runs it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from index import Store
from ingest import Document, parse_document
from ingest.normalize import compact, matching_copy, to_simplified
from ingest.ocr import ocr_pdf_pages, page_ranges
from ingest.options import ReadOptions
from ingest.pdf_reader import _read_lines, assemble, check_inflation, read_pdf
from ingest.readers import read_source, split_blocks
from ingest.records import SourceText

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "corpus" / "seed" / "武汉市减污降碳协同增效实施方案.txt"
SHARED_SCAN = ("corpus/pdf/国发2018-39号_促进就业若干意见_scanned_image_only.pdf",
               "corpus/pdf/国发2018-39号_促进就业若干意见_text_embedded_font.pdf")


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance, one numpy row per character of `a` (insertions by a running minimum)."""
    if not a or not b:
        return max(len(a), len(b))
    codes = np.frombuffer(b.encode("utf-32-le"), dtype=np.uint32)
    index = np.arange(len(b) + 1)
    row = index.copy()
    for position, char in enumerate(a, start=1):
        substitute = row[:-1] + (codes != ord(char))
        candidate = np.empty_like(row)
        candidate[0] = position
        candidate[1:] = np.minimum(row[1:] + 1, substitute)
        row = np.minimum.accumulate(candidate - index) + index
    return int(row[-1])


def cer(recognised: tuple[str, ...], reference: tuple[str, ...]) -> float:
    ours, theirs = (compact(matching_copy("".join(blocks))) for blocks in (recognised, reference))
    return edit_distance(ours, theirs) / max(len(theirs), 1)


def assignments(document: Document) -> dict[str, set[tuple[str, str]]]:
    """canonical department → {(clause id, role)} over tasks and inherited units."""
    table: dict[str, set[tuple[str, str]]] = {}
    for clause in document.clauses:
        for item in [*(r for task in clause.tasks for r in task.departments), *clause.inherited]:
            table.setdefault(item.canonical, set()).add((clause.id, item.role))
    return table


def outline(scan: Document, text: Document) -> dict:
    ours, theirs = assignments(scan), assignments(text)
    exact = sorted(name for name, cells in theirs.items() if ours.get(name) == cells)
    return {"measures": sum(clause.kind == "item" for clause in scan.clauses),
            "measures_text": sum(clause.kind == "item" for clause in text.clauses),
            "clause_ids_equal": [c.id for c in scan.clauses] == [c.id for c in text.clauses],
            "departments_exact": len(exact), "departments_text": len(theirs),
            "departments_wrong": sorted(set(theirs) - set(exact)),
            "departments_extra": sorted(set(ours) - set(theirs))}


def staged_ingest(path: Path, options: ReadOptions, home: Path) -> tuple[Document, tuple[str, ...], list, dict]:
    """`read_source` + `parse_document` + store, with each stage of `read_pdf` timed apart."""
    times: dict[str, float] = {}
    started = time.perf_counter()
    check_inflation(path)
    lines, scanned = _read_lines(path, options.bounds)
    times["text_layer"] = time.perf_counter() - started
    started, cpu = time.perf_counter(), time.process_time()
    recognised = ocr_pdf_pages(path, scanned, options) if scanned else []
    times["ocr"], times["ocr_cpu"] = time.perf_counter() - started, time.process_time() - cpu
    started = time.perf_counter()
    blocks = assemble(lines, recognised).blocks
    times["paragraphs"] = time.perf_counter() - started
    source = SourceText(blocks, "pdf", f"ocr:{page_ranges(scanned)}" if scanned else "pdf", "bench", str(path), {})
    started = time.perf_counter()
    document = parse_document(source)
    times["structure"] = time.perf_counter() - started
    started = time.perf_counter()
    with Store.open(home) as store:
        store.put_document(document)
    times["store"] = time.perf_counter() - started
    times["pages_ocr"] = len(scanned)
    return document, blocks, recognised, times


def make_seed_pdfs(folder: Path, dpi: int) -> tuple[Path, Path]:
    sys.path.insert(0, str(ROOT / "tests"))  # the fixture renderer the tests use
    from render import official_punctuation, render_official_pdf, render_scan

    blocks = [official_punctuation(to_simplified(block)) for block in split_blocks(SEED.read_text(encoding="utf-8"))]
    text_pdf = render_official_pdf(blocks, folder / "seed.pdf", "武汉市减污降碳协同增效实施方案")
    return text_pdf, render_scan(text_pdf, folder / "seed-scan.pdf", dpi)


def measure(scan: Path, text: Path, options: ReadOptions, work: Path) -> dict:
    scanned, blocks, recognised, times = staged_ingest(scan, options, work / f"home-{scan.stem}")
    reference = read_pdf(text, options)
    text_document = parse_document(read_source(text, options=options))
    total = sum(value for key, value in times.items() if key not in ("pages_ocr", "ocr_cpu"))
    confidences = [line.confidence for line in recognised] or [1.0]
    return {"file": scan.name, "pages": int(times["pages_ocr"]), "cer": round(cer(blocks, reference.blocks), 5),
            "ocr_pages_per_second": round(times["pages_ocr"] / times["ocr"], 3) if times["ocr"] else None,
            "ocr_cpu_seconds_per_page": round(times["ocr_cpu"] / max(times["pages_ocr"], 1), 3),
            "ocr_share_of_ingest": round(times["ocr"] / total, 4),
            "stage_seconds": {k: round(v, 3) for k, v in times.items() if k not in ("pages_ocr", "ocr_cpu")},
            "min_line_confidence": min(confidences), **outline(scanned, text_document)}


def _cpu_model() -> str:
    """The processor, so that figures from two machines are not compared as if from one."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.ocr_bench", description=__doc__.split("\n")[0])
    parser.add_argument("--dpi", type=int, default=150)
    parser.add_argument("--out", type=Path, default=ROOT / "eval" / "results")
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    arguments = parser.parse_args(argv)
    options = ReadOptions(ocr_dpi=arguments.dpi)
    with tempfile.TemporaryDirectory(prefix="policykb-ocr-bench-") as folder:
        work = Path(folder)
        text_pdf, scan_pdf = make_seed_pdfs(work, arguments.dpi)
        results = {"machine": {"cpus": os.cpu_count(), "cpu_model": _cpu_model(), "python": platform.python_version(),
                               "load_average_at_start": os.getloadavg()[0]}, "dpi": arguments.dpi,
                   "seed_scan": measure(scan_pdf, text_pdf, options, work)}
        shared_scan, shared_text = (arguments.shared / name for name in SHARED_SCAN)
        if shared_scan.is_file() and shared_text.is_file():
            results["shared_image_only_pdf"] = measure(shared_scan, shared_text, options, work)
    results["machine"]["load_average_at_end"] = os.getloadavg()[0]
    arguments.out.mkdir(parents=True, exist_ok=True)
    (arguments.out / "ocr-bench.json").write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n",
                                                  encoding="utf-8")
    print(json.dumps(results, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
