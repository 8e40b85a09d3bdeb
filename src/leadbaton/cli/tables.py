"""Rendering rich tables into a management command's output."""

from __future__ import annotations

import io

from rich.console import Console
from rich.table import Table


def table_text(table: Table, *, width: int = 160) -> str:
    buffer = io.StringIO()
    Console(file=buffer, width=width).print(table)
    return buffer.getvalue()
