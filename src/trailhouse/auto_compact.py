"""Compaction beside a long-running ingest (`trailhouse ingest --follow --compact-every`).

A follower commits every few seconds, so each day gathers many small files, and reports over them
compute the derived columns that compaction stores (query.derived). A thread compacts the lake
(lifecycle.compact) every interval while ingest goes on: a delivery committed meanwhile stays, and
a day that another writer changed meanwhile is left for the next round.
"""

from __future__ import annotations

import logging
import threading

from trailhouse import lifecycle
from trailhouse.lake import Lake

log = logging.getLogger("trailhouse.lifecycle")


class AutoCompactor:
    """Compacts `lake` every `interval` seconds in a background thread until `stop()`."""

    def __init__(self, lake: Lake, interval: float) -> None:
        self.lake = lake
        self.interval = interval
        self.rounds = 0  # rounds finished, with or without an error
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="trailhouse-compactor", daemon=True)

    def start(self) -> AutoCompactor:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop after the partition being rewritten, if any (no new one starts)."""
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                results = lifecycle.compact(self.lake, stopping=self._stop.is_set)
            except Exception as error:  # a failed round must not stop ingest: the next one retries
                kind = type(error).__name__
                log.warning("compaction failed (%s: %s); retrying in %g s", kind, error, self.interval)
            else:
                for r in results:
                    if r.partitions or r.conflicts:
                        left = ", ".join(r.conflicts)
                        log.info(
                            "Compacted %s (days rewritten: %d, files %d -> %d)%s",
                            r.table,
                            len(r.partitions),
                            r.files_before,
                            r.files_after,
                            f"; changed meanwhile, left for the next round: {left}" if left else "",
                        )
            self.rounds += 1
