"""Comparing remedies without the store options the command line adds to them."""
from __future__ import annotations

import re


def bare(text: str) -> str:
    """`text` without the --db / --landing a remedy gets from the command line (context.locate)."""
    return re.sub(r" --(?:db|landing) \S+", "", text)
