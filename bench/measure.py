"""Timing, peak-memory and report helpers shared by the benchmarks and their processes (standard library only).

Peak memory is the growth of the process's resident set over the measured call:
writing "5" to /proc/self/clear_refs resets Linux's high-water mark (VmHWM) to
the current RSS, so VmHWM after the call minus VmRSS before it is the most the
call added, whatever allocated it (torch's CPU allocator included, which
tracemalloc cannot see).
"""

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO, TypeVar

T = TypeVar("T")


def rss_mb(field: str = "VmRSS") -> float:
    """A memory field of /proc/self/status (VmRSS, VmHWM) in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024  # the kernel reports kB
    raise RuntimeError(f"{field} is not in /proc/self/status; peak memory needs Linux")


def peak_growth_mb(call: Callable[[], T]) -> tuple[T, float]:
    """Run `call` once; return its result and the peak RSS it added, in MB."""
    before = rss_mb()
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM := current RSS
    result = call()
    return result, rss_mb("VmHWM") - before


def timed(call: Callable[[], object]) -> float:
    """Wall-clock seconds of one call."""
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def medians(times: dict[str, list[float]]) -> dict[str, float]:
    return {key: statistics.median(values) for key, values in times.items()}


def table(header: list[str], rows: list[list[str]]) -> None:
    """Print rows under a header, the first column left-aligned and the others right-aligned."""
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]
    for row in [header, ["-" * w for w in widths], *rows]:
        say(
            "  ".join(
                cell.rjust(w) if i else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            )
        )


def say(text: str, *, file: TextIO = sys.stdout) -> None:
    print(text, file=file)  # noqa: T201 - a benchmark's output is its report


def ratio(value: float, base: float) -> str:
    return f"{value / base:.2f}" if base > 0 else "-"
