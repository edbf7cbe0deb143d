"""Peak growth of anonymous memory during a call (Linux), for tests and benchmarks.

``RssAnon`` (from ``/proc/self/status``) counts the process's private
memory: arrays, tensors, the heap. Unlike RSS, it leaves out file-backed
pages, so reading a memory-mapped file does not count, while a copy of it
does. A background thread samples it every ``interval`` seconds during the
call; numpy and torch release the GIL in their copies and kernels, so the
sampler keeps running while they work. ``benchmarks/memory.py`` imports it
too.
"""

import ctypes
import threading
import time
from pathlib import Path

import numpy as np

_STATUS = Path("/proc/self/status")


def available():
    """Whether this system reports ``RssAnon`` (Linux does)."""
    try:
        return "RssAnon:" in _STATUS.read_text()
    except OSError:
        return False


def rss_anon():
    """The process's anonymous resident memory now, in bytes."""
    for line in _STATUS.read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) * 1024  # reported in kB
    raise OSError("RssAnon is not in /proc/self/status (Linux only).")


def _release_free_memory():
    """Hand the C allocator's free pages back to the system (glibc), if it can.

    Memory that earlier work freed can stay resident in the allocator's
    arenas; a new array that reuses it adds nothing to RssAnon, and a copy
    would go unseen (a full test run once measured a 40 MB copy as 4 kB).
    """
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to release this way
        pass


def peak_growth(fn, *args, interval=0.002, **kwargs):
    """Call ``fn(*args, **kwargs)``; return ``(result, peak RssAnon growth in bytes)``.

    The growth is the highest sample taken during the call (and right
    after it) minus the one taken right before, so memory still held by
    the result counts.
    """
    _release_free_memory()
    baseline = rss_anon()
    peak = baseline
    done = threading.Event()

    def sample():
        nonlocal peak
        while not done.is_set():
            peak = max(peak, rss_anon())
            time.sleep(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        result = fn(*args, **kwargs)
    finally:
        done.set()
        sampler.join()
    return result, max(peak, rss_anon()) - baseline


def random_memmap(path, shape, dtype, seed=0, chunk_rows=20_000):
    """A read-only memmap of ``shape`` at ``path`` (.npy), random data written in chunks.

    Floats are uniform in [0, 1), integers uniform in [0, 255]. Writing in
    chunks keeps the writer's own memory small.
    """
    dtype = np.dtype(dtype)
    array = np.lib.format.open_memmap(path, mode="w+", dtype=dtype, shape=shape)
    rng = np.random.default_rng(seed)
    for start in range(0, shape[0], chunk_rows):
        rows = (min(chunk_rows, shape[0] - start), *shape[1:])
        if dtype.kind == "f":
            array[start : start + rows[0]] = rng.random(rows, dtype=np.float32)
        else:
            array[start : start + rows[0]] = rng.integers(0, 256, rows)
    array.flush()
    del array
    return np.load(path, mmap_mode="r")
