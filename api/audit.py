"""The audit replay tool's commands (`snag replay`, `verify`, ...): see issue 4."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add the audit commands to the `snag` parser."""
