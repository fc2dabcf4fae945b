"""Allocator settings for ingest: give freed memory back to the system.

Ingest allocates and frees buffers of megabytes at a high rate (gunzipped text, JSON lines, Arrow
columns). With the default allocators freed memory mostly stays in the process: mimalloc (Arrow's
default pool) keeps its pages, glibc raises its mmap threshold after the first large free and keeps
freed chunks below the top of its heap, and delta-rs' jemalloc keeps dirty pages for ten seconds.
On the ingest benchmark (1 GiB with a 60 MB file, two parsers) these settings took the peak RSS of
the process tree from ~970 MiB to ~630 MiB (PSS ~500 MiB) at the same speed. Trimming the heap
after every group as well saves a little more but costs ~7% more CPU in page faults, so it is done
after a large group and after each commit only.

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
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD = 256 * 1024  # larger blocks are mapped, and unmapped when freed
_TRIM_THRESHOLD = 1024 * 1024  # free heap beyond this at the top is returned


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None


def release_memory_eagerly() -> None:
    """Arrow on the system allocator; glibc told to unmap large blocks and trim its heap."""
    pa.set_memory_pool(pa.system_memory_pool())
    libc = _glibc()
    if libc is not None:  # not glibc: its defaults stay
        libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)
        libc.mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD)


def give_back() -> None:
    """Return every free page of glibc's heaps to the system, not only those at the top."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)
