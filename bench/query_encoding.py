"""Time the semantic encoder on real customer questions, one thread, per precision and length.

Usage: python bench/query_encoding.py DATA_DIR [--every N]

Needs the semantic extra. DATA_DIR contains the labelled sets (techqa, wixqa,
mtrag); every Nth question of each is encoded once per configuration with
the product's ``Encoder``: float32 or bfloat16, queries cut at 256 or 128
word pieces, and the float32 model with its linear layers quantised to int8
(dynamic, per-channel weights) at 128. The script prints the p50 and p95
CPU time per query and the lowest and mean cosine of each configuration's
vectors to those of float32 at 256 word pieces. Run it under ``taskset -c
0`` on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from campfire_server.knowledge import semantic

SETS = ("techqa", "wixqa", "mtrag")
CONFIGURATIONS = (
    ("float32", 256),
    ("bfloat16", 256),
    ("float32", 128),
    ("bfloat16", 128),
    ("int8", 128),
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--every", type=int, default=2, help="encode every Nth question")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(1)
    questions = []
    for name in SETS:
        with (args.data / name / "questions.jsonl").open(encoding="utf-8") as handle:
            rows = [json.loads(line) for line in handle if line.strip()]
        questions += [row["question"] for row in rows[:: args.every]]

    reference = None
    print(f"{len(questions)} questions; bfloat16 native: {semantic.bfloat16_native()}")
    # Eager-mode quantisation warns that it is deprecated (torch 2.13).
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", message="torch.quantize_per")
    for precision, tokens in CONFIGURATIONS:
        encoder = semantic.Encoder(bfloat16=precision == "bfloat16", query_cache_size=0)
        if precision == "int8":
            encoder._model = torch.ao.quantization.quantize_dynamic(
                encoder._load(),
                {torch.nn.Linear: torch.ao.quantization.per_channel_dynamic_qconfig},
                dtype=torch.qint8,
            )
        semantic.MAX_QUERY_TOKENS = tokens
        encoder.encode_query("warm up the model")
        times, vectors = [], []
        for question in questions:
            started = time.process_time()
            vectors.append(encoder.encode_query(question))
            times.append(time.process_time() - started)
        vectors = np.array(vectors)
        if reference is None:
            reference = vectors
        cosine = (vectors * reference).sum(axis=1)
        milliseconds = np.array(times) * 1000
        print(
            f"{precision} {tokens} word pieces: CPU p50 {np.percentile(milliseconds, 50):.1f} ms, "
            f"p95 {np.percentile(milliseconds, 95):.1f} ms; cosine to float32 at 256: "
            f"min {cosine.min():.4f}, mean {cosine.mean():.4f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
