"""The store and landing folder the running command was given, for the commands a remedy names.

A remedy ("Try: fullcourt backfill --phase 2 --dates 2021-11-17") must act on the store the
user is working on. Remedies are written deep in the engine, without knowing the command's
options, so the command line records its explicit `--db` and `--landing` here (`remember`)
and `locate` adds them to every `fullcourt ...` command of a remedy that accepts them, before
the remedy is printed, stored with an alert or posted. A value taken from the environment
($FULLCOURT_DB, $FULLCOURT_LANDING) is not added: the same environment gives it again.
"""
from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any, Mapping

OPTIONS: dict[str, frozenset[str]] = {}
"""Command path ("backfill", "cascade reprocess") -> the options it accepts (the CLI fills it)."""
_GIVEN: dict[str, str] = {}
# a command starts the text or follows a space, "(" or ":" (never inside a path such as
# '/srv/fullcourt run/x.duckdb', so locating twice changes nothing)
_COMMAND = re.compile(r"(?<![^\s(:])fullcourt ((?:cascade|completeness|validate) [a-z-]+|[a-z-]+)")


def remember(params: Mapping[str, Any]) -> None:
    """Record the running command's explicit --db and --landing (None: not given), as absolute
    paths: a stored or posted remedy may be run from another folder (a cron job)."""
    _GIVEN.clear()
    for name in ("db", "landing"):
        if params.get(name):
            _GIVEN[name] = str(Path(params[name]).resolve())


def forget() -> None:
    _GIVEN.clear()


def locate(text: str | None) -> str | None:
    """`text` with the remembered --db / --landing added to each `fullcourt <command>` in it
    that accepts the option and does not name it already."""
    if not text or not _GIVEN:
        return text
    out, last = [], 0
    matches = list(_COMMAND.finditer(text))
    for i, m in enumerate(matches):
        rest = text[m.end():matches[i + 1].start() if i + 1 < len(matches) else len(text)]
        accepts = OPTIONS.get(m.group(1), frozenset())
        flags = [f"--{name} {shlex.quote(value)}" for name, value in _GIVEN.items()
                 if f"--{name}" in accepts and f"--{name} " not in rest]
        out.append(text[last:m.end()] + "".join(f" {f}" for f in flags))
        last = m.end()
    out.append(text[last:])
    return "".join(out)
