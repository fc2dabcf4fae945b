"""Allocator settings for ingest: give freed memory back to the system (parsers keep a little).

Ingest allocates and frees buffers of megabytes at a high rate (gunzipped text, JSON lines, Arrow
columns). With the default allocators freed memory mostly stays in the process: mimalloc (Arrow's
default pool) keeps its pages, glibc raises its mmap threshold after the first large free and keeps
freed chunks below the top of its heap, and delta-rs' jemalloc keeps dirty pages for ten seconds.
On the ingest benchmark (1 GiB with a 60 MB file, two parsers) these settings took the peak RSS of
the process tree from ~970 MiB to ~630 MiB (PSS ~500 MiB) at the same speed. Trimming the heap
after every group as well saves a little more but costs ~7% more CPU in page faults, so it is done
after a large group and after each commit only.

Parser processes (`reuse_freed_memory`) keep a little of what they free instead: blocks under
32 MiB come from glibc's heap, which keeps up to 4 MiB free at its top, so a unit's buffers land in
the pages the last unit freed rather than in fresh ones. A fresh page costs a fault (the kernel
maps and zeroes it): each parser took ~640k faults on the benchmark, and ~260k with this. Over
interleaved rounds it took ingest's CPU to 0.905x (10 of 10 won) and 0.955x (5 of 8), for
~+15 MiB of the tree's peak RSS, bought back in part by smaller groups (1.5 MiB stored rather
than 2, `pipeline.py`).

`pa.set_memory_pool` reaches only what pyarrow's Python layer allocates: the Parquet writer's
buffers still come from Arrow's C++ default pool, which only the ARROW_DEFAULT_MEMORY_POOL
variable chooses, before pyarrow loads. The `trailhouse` command sets it (cli/main.py): on the
benchmark that took the peak RSS from ~480 to ~433 MiB (PSS ~368 to ~321) at the same speed, and
the low-memory setting from ~232 to ~209 MiB.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

import pyarrow as pa

_M_TRIM_THRESHOLD = -1  # glibc mallopt parameters (malloc.h)
_M_TOP_PAD = -2
_M_MMAP_THRESHOLD = -3
_MIB = 1024 * 1024


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None


def release_memory_eagerly() -> None:
    """Arrow on the system allocator; glibc told to unmap blocks over 256 KiB when freed and to
    return free heap at its top beyond 1 MiB."""
    _tune(mmap_threshold=_MIB // 4, trim_threshold=_MIB)


def reuse_freed_memory() -> None:
    """For a parser process: Arrow on the system allocator; glibc keeps blocks under 32 MiB in its
    heap and up to 4 MiB free at its top (2 MiB after a trim), for the next unit to reuse."""
    _tune(mmap_threshold=32 * _MIB, trim_threshold=4 * _MIB, top_pad=2 * _MIB)


def _tune(mmap_threshold: int, trim_threshold: int, top_pad: int | None = None) -> None:
    pa.set_memory_pool(pa.system_memory_pool())
    libc = _glibc()
    if libc is None:  # not glibc: its defaults stay
        return
    libc.mallopt(_M_MMAP_THRESHOLD, mmap_threshold)
    libc.mallopt(_M_TRIM_THRESHOLD, trim_threshold)
    if top_pad is not None:
        libc.mallopt(_M_TOP_PAD, top_pad)


def give_back() -> None:
    """Return every free page of glibc's heaps to the system, not only those at the top."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)
