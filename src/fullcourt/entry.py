"""The `fullcourt` command's entry point.

The CLI's modules (Typer, Rich, DuckDB, NumPy) take about a second to load. Ctrl-C in that
second ends like Ctrl-C during a command (one line, exit 130), not with a traceback of the
import."""
from __future__ import annotations

import sys

INTERRUPTED = "Interrupted before anything ran; run the command again.\n"


def main() -> None:
    try:
        from fullcourt.cli import main as run
    except KeyboardInterrupt:
        sys.stderr.write(INTERRUPTED)
        sys.exit(130)
    run()
