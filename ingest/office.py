"""Word-processor files (.doc .wps .rtf .odt) to paragraphs: LibreOffice converts them to DOCX, then the
DOCX reader reads that.

LibreOffice is Debian's (`libreoffice-writer-nogui`, installed by `make system-packages`); without it
the file is refused with a one-line error naming the package. Each conversion runs `soffice
--headless --convert-to docx` on a copy of the file in a private temporary folder with its own user
profile (so conversions never share or lock a profile, and the client's file name never reaches the
command line), in its own process group, which is killed when the conversion runs past its timeout.
The output's size is checked before it is read, and the folder is removed afterwards. The profile is a
copy of one LibreOffice made once per process (`--terminate_after_init`), which halves the time of a
conversion against letting every one build its profile afresh.
"""

from __future__ import annotations

import atexit
import functools
import logging
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from .docx_reader import docx_blocks
from .errors import ConversionFailed, ConverterMissing, UnsafeArchive
from .options import ReadOptions
from .records import SourceTable

logger = logging.getLogger(__name__)
OFFICE_SUFFIXES = (".doc", ".wps", ".rtf", ".odt")
DEBIAN_PACKAGE = "libreoffice-writer-nogui"
MAX_OUTPUT_BYTES = 100 * 2**20


def soffice() -> str | None:
    """LibreOffice's command, or None when it is not installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def office_blocks(path: Path, options: ReadOptions) -> tuple[tuple[str, ...], tuple[SourceTable, ...]]:
    """Paragraphs and tables of a .doc/.wps/.rtf/.odt file, through a LibreOffice conversion to DOCX."""
    command = soffice()
    if command is None:
        raise ConverterMissing(f"{path.name}: 读取 {path.suffix.lower()} 需要 LibreOffice，本机未安装；请安装 Debian 软件包 "
                               f"{DEBIAN_PACKAGE}（apt-get install --no-install-recommends {DEBIAN_PACKAGE}），"
                               "或另存为 .docx 后导入")
    with tempfile.TemporaryDirectory(prefix="policykb-soffice-") as folder:
        converted = _convert(command, path, Path(folder), options.convert_timeout_s)
        return docx_blocks(converted, options.bounds)


_OPTIONS = ["--headless", "--norestore", "--nologo", "--nolockcheck", "--nodefault"]


@functools.cache
def _profile_template(command: str) -> Path | None:
    """A LibreOffice user profile made once per process, copied for each conversion; None if that failed."""
    folder = Path(tempfile.mkdtemp(prefix="policykb-soffice-profile-"))
    atexit.register(shutil.rmtree, folder, True)
    arguments = [command, f"-env:UserInstallation={(folder / 'profile').as_uri()}", *_OPTIONS, "--terminate_after_init"]
    try:
        _run(arguments, folder, 120, folder)
    except ConversionFailed:
        return None
    return folder / "profile" if (folder / "profile").is_dir() else None


def _convert(command: str, path: Path, folder: Path, timeout: float) -> Path:
    source = folder / f"input{path.suffix.lower()}"
    shutil.copyfile(path, source)
    if (template := _profile_template(command)) is not None:
        shutil.copytree(template, folder / "profile", symlinks=True)
    arguments = [command, f"-env:UserInstallation={(folder / 'profile').as_uri()}", *_OPTIONS,
                 "--convert-to", "docx:MS Word 2007 XML", "--outdir", str(folder / "out"), str(source)]
    _run(arguments, folder, timeout, path)
    return _checked_output(folder / "out" / "input.docx", path)


def _run(arguments: list[str], folder: Path, timeout: float, path: Path) -> bytes:
    process = subprocess.Popen(arguments, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               cwd=folder, env={**os.environ, "HOME": str(folder)}, start_new_session=True)
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        raise ConversionFailed(f"{path.name}: LibreOffice 转换超过 {timeout:g} 秒未完成，已终止；请另存为 .docx 后导入，"
                               "或调大转换时限（命令行 --convert-timeout，服务 POLICYKB_CONVERT_TIMEOUT_S）") from None
    finally:
        _kill_group(process)  # also any helper soffice left behind
    logger.info("soffice exited %s: %s", process.returncode, output.decode("utf-8", "replace").strip())
    return output


def _checked_output(converted: Path, path: Path) -> Path:
    if not converted.is_file():
        raise ConversionFailed(f"{path.name}: LibreOffice 无法转换这个文件（文件损坏、加密或不是 {path.suffix.lower()} "
                               "文档）；请用办公软件打开后另存为 .docx 再导入")
    if converted.stat().st_size > MAX_OUTPUT_BYTES:
        raise UnsafeArchive(f"{path.name}: LibreOffice 转换结果超过 {MAX_OUTPUT_BYTES // 2**20} MB，拒绝读取")
    return converted


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()
    if process.stdout is not None:
        process.stdout.close()
