"""Latency of :func:`oscar_gpt.recommendations.embeddings.nearest`'s search over 100,000
products x 384 dimensions (all-MiniLM-L6-v2), the in-memory part of every finder query.

    OPENBLAS_NUM_THREADS=2 taskset -c 0,1 python bench/bench_nearest.py

"cpu" is the process's CPU time per query: on a busy machine it is what the query would
take on cores of its own (with one BLAS thread, ``OPENBLAS_NUM_THREADS=1``, it is close to
the wall time of an idle machine).

The vectors are shaped like sentence embeddings (a few dozen strong directions plus noise),
so the recall of the projected search against the full scan is measured too. No database:
the matrix is what :func:`vector_matrix` holds once loaded.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--dimensions", type=int, default=384)
    parser.add_argument("--k", type=int, default=200, help="results per query (finder: 200)")
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()

    import django

    django.setup()
    from oscar_gpt.recommendations import embeddings

    rng = np.random.default_rng(0)
    n, d = args.rows, args.dimensions
    basis = rng.standard_normal((48, d)).astype(np.float32)
    matrix = rng.standard_normal((n, 48)).astype(np.float32) @ basis
    matrix += 0.3 * rng.standard_normal((n, d)).astype(np.float32)
    matrix = embeddings._normalised(matrix)
    ids = np.arange(1, n + 1, dtype=np.int64)
    index = embeddings._Index(("bench",), ids, matrix)

    started = time.perf_counter()
    embeddings._projection(index)
    print(f"projection built once per load: {(time.perf_counter() - started) * 1e3:.0f} ms")

    queries = [
        matrix[row] + 0.2 * rng.standard_normal(d).astype(np.float32)
        for row in rng.choice(n, size=args.queries, replace=False)
    ]
    exclude = [int(i) for i in rng.choice(ids, size=20, replace=False)]

    def timed(use_index: bool) -> tuple[list[float], list[float], list[set[int]]]:
        times, cpu, found = [], [], []
        for query in queries:
            t, c = time.perf_counter(), time.process_time()
            hits = embeddings.search(
                ids, matrix, query, args.k, exclude, index=index if use_index else None
            )
            times.append((time.perf_counter() - t) * 1e3)
            cpu.append((time.process_time() - c) * 1e3)
            found.append({pk for pk, _ in hits})
        return times, cpu, found

    for label, use_index in (("projected + exact re-rank", True), ("full scan", False)):
        timed(use_index)  # warm up
        times, cpu, found = timed(use_index)
        if use_index:
            fast = found
        else:
            exact = found
        for kind, values in (("wall", times), ("cpu", cpu)):
            values.sort()
            p95 = values[int(len(values) * 0.95) - 1]
            print(
                f"{label:>26} {kind:>4}: p50 {statistics.median(values):6.2f} ms  "
                f"p95 {p95:6.2f} ms  max {values[-1]:6.2f} ms  ({n:,} x {d}, k={args.k})"
            )
    recall = statistics.mean(len(a & b) / len(b) for a, b in zip(fast, exact, strict=True))
    print(f"recall of the projected search against the full scan: {recall:.3f}")


if __name__ == "__main__":
    import os
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sandbox.settings")
    main()
