"""One error base for fullcourt. Every user-facing failure is a FullcourtError.

The CLI prints `Error: <message>` and, when given, `Try: <remedy>` on stderr and exits with
`exit_code`: 1 when something failed or did not hold, 2 for bad usage, 3 when a run is blocked.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from fullcourt.context import locate


class FullcourtError(Exception):
    """Base error. `message` says what is wrong (with values), `remedy` the next command."""

    exit_code = 1

    def __init__(self, message: str, remedy: str | None = None, **context: Any) -> None:
        super().__init__(message)
        self.message = message
        self.remedy = remedy
        self.context = context

    def to_dict(self) -> dict[str, Any]:
        ctx = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in self.context.items()}
        return {"error": type(self).__name__, "message": self.message, "remedy": locate(self.remedy), **ctx}


class UsageError(FullcourtError):
    """Bad command-line usage: a malformed date, an unknown processor, a bad option mix."""

    exit_code = 2


class InputError(FullcourtError):
    """Bad input data (a landing payload or an import file)."""


class DatabaseLockedError(FullcourtError):
    """Another process holds the DuckDB file."""


class BlockedError(FullcourtError):
    """A strict-mode defensive check refused to run a processor."""

    exit_code = 3


class ProcessingError(FullcourtError):
    """A processor's query failed (a bug or a broken store): PROCESSING_ERROR."""
