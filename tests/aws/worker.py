"""An ingest worker for the crash tests: `python worker.py SOURCE LAKE [MODE] [VISIBILITY] [--follow]`.

MODE "kill-after-commit" SIGKILLs the process once its first commit is durable but before any
message is deleted; "kill-before-commit" SIGKILLs it on its first write to the lake.
"""

from __future__ import annotations

import os
import signal
import sys


def main() -> None:
    from trailhouse.ingest import pipeline
    from trailhouse.lake import Lake
    from trailhouse.sources import sqs
    from trailhouse.sources.resolve import open_source

    source_spec, lake, mode = sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "normal"
    visibility = int(sys.argv[4]) if len(sys.argv) > 4 else 120
    follow = "--follow" in sys.argv

    def die(*args: object, **kwargs: object) -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    if mode == "kill-after-commit":
        sqs.SqsSource.committed = die  # type: ignore[method-assign,assignment]
    elif mode == "kill-before-commit":
        Lake.append = die  # type: ignore[method-assign,assignment]
        Lake.commit_files = die  # type: ignore[method-assign,assignment]
    options = {"visibility_timeout": visibility, "wait_seconds": 1, "flush_seconds": 2.0, "poll_seconds": 1.0}
    source = open_source(source_spec, follow=follow, options=options)
    try:
        result = pipeline.ingest([source], Lake(lake), pipeline.IngestOptions(workers=1, batch_mb=8))
    finally:
        source.close()
    print(result.ingested, result.already_done, flush=True)


if __name__ == "__main__":
    main()
