"""Time and peak memory of reading the attack files of issue 12 (defects 4–6), each in a fresh process.

    python -m eval.hostile_cost [--source DIR] [--memory-limit-gb 8] [--skip NAME] [--out FILE.json]

The files are written to a temporary folder as the issue describes them: a 1 KB PDF whose one
text-show draws 400,000 glyphs; an 11.5 MB DOCX whose document.xml is 195 MB (16:1, under the zip
ratio check); HTML with `<b>` ×20,000 then `</i>` ×20,000 (140 kB) and ×200,000 (1.4 MB). Beside
them, files just inside the bounds, to show what the bounds still allow (a page of 99,000 glyphs;
20 pages sharing it, which the document's glyph budget stops; a DOCX of 31 MB of XML and 49,000
paragraphs), and for scale a normal file of each format (the seed plan rendered as PDF and DOCX,
the test gov page). Each is read (`read_source`, then `parse_document`) by a subprocess that
reports its wall time, CPU time, outcome and peak resident memory (VmHWM, the process's own
high-water mark; `ru_maxrss` where /proc is absent). The issue's target: each attack refused or
read in ≤ 5 s and ≤ 0.6 GiB, judged on wall time (on a shared machine the wall time of the same
work varies; the CPU time less). `--source DIR` reads with the `ingest` package of another checkout
(the code before a fix, in the same run); `--memory-limit-gb` caps each subprocess's address space
so that a reader which would exhaust the machine fails with MemoryError instead.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS, TARGET_GIB = 5.0, 0.6
_READ = """
import json, resource, sys, time
started = time.perf_counter()
try:
    import ingest
    from ingest import parse_document, read_source
    document = parse_document(read_source(sys.argv[1]))
    outcome = f"read: {len(document.clauses)} clauses"
except MemoryError:
    outcome = "MemoryError"
except Exception as error:
    outcome = f"refused: {type(error).__name__}: {str(error)[:160]}"
def peak_kib():  # VmHWM: this process image's own peak (ru_maxrss can carry the parent's over fork and exec)
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"seconds": time.perf_counter() - started, "cpu_seconds": usage.ru_utime + usage.ru_stime,
                  "outcome": outcome, "peak_gib": peak_kib() / 2**20, "ingest": ingest.__file__}))
"""


def raw_pdf(objects: list[bytes]) -> bytes:
    out, offsets = bytearray(b"%PDF-1.7\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def glyph_pdf(path: Path, glyphs: int = 400_000, pages: int = 1) -> Path:
    """`pages` pages that all draw one text-show of `glyphs` glyphs (one stream, so the file stays small)."""
    stream = zlib.compress(b"BT /F1 1 Tf 10 10 Td (" + b"A" * glyphs + b") Tj ET", 9)
    kids = b" ".join(b"%d 0 R" % (5 + page) for page in range(pages))
    page = (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 3 0 R "
            b"/Resources << /Font << /F1 4 0 R >> >> >>")
    path.write_bytes(raw_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages),
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>", *[page] * pages]))
    return path


def inflated_docx(path: Path, megabytes: float = 195, paragraphs_at_most: int = 10**9) -> Path:
    """A document.xml of `megabytes` MB of paragraphs that compress about 16:1 (or of fewer, longer ones)."""
    rng = random.Random(12)
    words = ["推进", "加强", "落实", "完善", "建立", "健全", "开展", "实施", "强化", "提升", "生态", "环境", "治理", "监管"]
    paragraphs, size = [], 0
    per_paragraph = max(10, int((megabytes * 2**20 / paragraphs_at_most - 250) / 6))  # 6 bytes a word
    while size < megabytes * 2**20 - 400 and len(paragraphs) < paragraphs_at_most:
        text = "".join(rng.choice(words) for _ in range(per_paragraph)) + f"第{rng.randrange(10**5)}项"
        paragraphs.append('<w:p><w:pPr><w:spacing w:line="560" w:lineRule="exact"/><w:ind w:firstLine="640"/>'
                          '</w:pPr><w:r><w:rPr><w:rFonts w:ascii="仿宋_GB2312" w:eastAsia="仿宋_GB2312"/>'
                          f'<w:sz w:val="32"/></w:rPr><w:t>{text}</w:t></w:r></w:p>')
        size += len(paragraphs[-1].encode())
    body = "".join(paragraphs)
    xml = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w='
           f'"http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>{body}</w:body></w:document>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                         'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxml'
                         'formats-package.relationships+xml"/><Override PartName="/word/document.xml" ContentType='
                         '"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
        archive.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
                         'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
                         'officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>'
                         '</Relationships>')
        archive.writestr("word/document.xml", xml)
    return path


def end_tags_html(path: Path, count: int) -> Path:
    plan = "".join(f"<p>{line}</p>" for line in ("关于推进社区垃圾分类工作的实施方案", "一、重点任务",
                                                "（一）推进垃圾分类。（市城管执法委牵头，市生态环境局配合）"))
    path.write_text(f"<html><body>{'<b>' * count}{'</i>' * count}{plan}</body></html>", encoding="utf-8")
    return path


def normal_files(folder: Path) -> dict[str, Path]:
    sys.path.insert(0, str(ROOT / "tests"))
    from render import render_docx, render_official_pdf  # the fixtures' renderers

    seed = (ROOT / "corpus" / "seed" / "武汉市减污降碳协同增效实施方案.txt").read_text(encoding="utf-8")
    lines = [line for line in seed.splitlines() if line.strip()]
    return {"seed plan (PDF, normal)": render_official_pdf(lines, folder / "seed.pdf", lines[0]),
            "seed plan (DOCX, normal)": render_docx(lines, folder / "seed.docx", lines[0]),
            "gov page (HTML, normal)": ROOT / "tests" / "data" / "gov_page.html"}


def measure(path: Path, source: Path, memory_limit_gb: float) -> dict:
    limit = int(memory_limit_gb * 2**30)
    command = [sys.executable, "-c", f"import resource; resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))\n"
               + _READ, str(path)]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, timeout=1800, cwd=path.parent,
                          env={**os.environ, "PYTHONPATH": str(source)})  # cwd: not this checkout
    if done.returncode or not done.stdout.strip():
        return {"seconds": time.perf_counter() - started, "cpu_seconds": float("nan"),
                "outcome": f"crashed: {done.stderr.strip()[-200:]}", "peak_gib": float("nan")}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=ROOT, help="checkout whose ingest package reads the files")
    parser.add_argument("--memory-limit-gb", type=float, default=8.0)
    parser.add_argument("--out", type=Path, default=None, help="write the results as JSON here")
    parser.add_argument("--skip", action="append", default=[], help="leave out the files whose name contains this")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        attacks = {"glyph PDF (400,000 glyphs, defect 4)": glyph_pdf(folder / "glyphs.pdf"),
                   "inflated DOCX (195 MB XML at 16:1, defect 5)": inflated_docx(folder / "inflated.docx"),
                   "end-tag HTML (20,000 each, defect 6)": end_tags_html(folder / "tags-20k.html", 20_000),
                   "end-tag HTML (200,000 each, defect 6)": end_tags_html(folder / "tags-200k.html", 200_000)}
        # What an attacker can still make us do: files just inside the bounds are read, not refused.
        at_bounds = {"PDF page at the glyph bound (99,000 glyphs)": glyph_pdf(folder / "glyphs-99k.pdf", 99_000),
                     "PDF of 20 such pages, one shared stream": glyph_pdf(folder / "glyphs-20p.pdf", 99_000, 20),
                     "DOCX at the bounds (31 MB XML, 49,000 paragraphs)": inflated_docx(
                         folder / "bound.docx", 31, paragraphs_at_most=49_000)}
        rows = []
        for name, path in {**attacks, **at_bounds, **normal_files(folder)}.items():
            if any(part in name for part in args.skip):
                continue
            result = measure(path, args.source, args.memory_limit_gb)
            attack = name in attacks
            met = result["seconds"] <= TARGET_SECONDS and result["peak_gib"] <= TARGET_GIB if attack else None
            kind = "attack" if attack else "at the bounds" if name in at_bounds else "normal"
            rows.append({"file": name, "kind": kind, "bytes": path.stat().st_size, **result, "target_met": met})
            print(f"{name:48} {path.stat().st_size / 1024:>9.0f} kB {result['seconds']:7.2f} s "
                  f"(cpu {result['cpu_seconds']:6.2f} s) "
                  f"{result['peak_gib']:6.2f} GiB  {'' if met is None else ('ok ' if met else 'MISS')} "
                  f"{result['outcome']}", flush=True)
    report = {"source": str(args.source), "python": platform.python_version(), "machine": platform.machine(),
              "target": {"seconds": TARGET_SECONDS, "peak_gib": TARGET_GIB}, "files": rows}
    if args.out:
        args.out.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return 0 if all(row["target_met"] is not False for row in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
