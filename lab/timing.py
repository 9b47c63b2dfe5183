"""Medians of repeated runs: every figure the labs and the bench print is one."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm-up: caches and buffer pool, not the first-call cost
    timings = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        timings.append((time.perf_counter() - began) * 1000)
    return statistics.median(timings)


def medians_in_turns(fns: list[Callable[[], object]], repeat: int) -> list[float]:
    """Each function's median ms, run in turns: a ratio of two then sees one load, not two."""
    for fn in fns:
        fn()  # warm-up
    timings: list[list[float]] = [[] for _ in fns]
    for _ in range(repeat):
        for fn, times in zip(fns, timings, strict=True):
            began = time.perf_counter()
            fn()
            times.append((time.perf_counter() - began) * 1000)
    return [statistics.median(times) for times in timings]
