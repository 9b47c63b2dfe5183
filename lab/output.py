"""What every lab writes besides its table: ``--json PATH`` (its rows) and ``--chart PATH``.

The JSON of every lab has one shape: ``{"lab", "database", "engine", "params",
"rows": [...]}`` (plus what a lab adds), each row a flat object of the
table's columns, so a report, a notebook or a test can read any lab alike.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.db import connection


def add_arguments(parser) -> None:
    parser.add_argument("--json", metavar="PATH", help="write the rows as JSON to PATH")
    parser.add_argument("--chart", metavar="PATH", help="draw the chart as SVG to PATH")


def database() -> str:
    """The server and its version, as the tables' headers name it."""
    with connection.cursor() as cursor:
        if connection.vendor == "mysql":
            cursor.execute("SELECT VERSION()")
            return f"MySQL/MariaDB {cursor.fetchone()[0]}"
        cursor.execute("SELECT sqlite_version()")
        return f"SQLite {cursor.fetchone()[0]}"


def write_json(path: str | Path, *, lab: str, params: dict, rows: list[dict], **extra: Any) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "lab": lab,
        "database": database(),
        "engine": connection.vendor,
        "params": params,
        "rows": rows,
        **extra,
    }
    path.write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")
    return path


def table(write, header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    """Columns padded to their widest cell, one line each through ``write``."""
    widths = [max(len(line[i]) for line in [header, *rows]) for i in range(len(header))]
    for line in [header, *rows]:
        write("  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip())
