"""Rows as the text COPY reads, tallied as they are written: how replay loads a segment.

psycopg's `write_row` turns every value into text through its dumpers, and replay then made
the canonical text of every row again for the checksum: two conversions of every value, and
most of a segment's load. Here each value becomes text once (rows.py's canonical functions),
and that text serves both the checksum and COPY, except where COPY must be sent something
else:

  text        escaped for COPY (backslash, tab, newline, carriage return), so "\\N" stays a
              string and not a null
  money       the exact Decimal, as psycopg sends it, not its canonical rounding: Postgres
              rounds it to the column's two places itself, and the checksum it recomputes
              from what it stored then shows any rounding that differs from ours
  text_list   an array literal ({a,b}), its elements quoted where they need it

uuid, int and timestamp are sent as their canonical text, which is lossless (a timestamp in
UTC to the microsecond, with its zone). So the tally is still the tally of the values as
replay holds them (rows.tally_of gives the same), and Postgres's still that of the values it
stored: verification compares the same two things as before.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ordering.adapters.read_model_tables.rows import NULL_TEXT, SEPARATOR, TEXT_OF, Row, Table

ROWS_PER_CHUNK = 2000  # rows joined into one write: a few hundred KB

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_ARRAY_SPECIAL = frozenset('{}",\\ \t\n\r\f\v')


def copy_escaped(text: str) -> str:
    """A value as COPY's text format reads it back unchanged."""
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        return text.translate(_ESCAPES)
    return text


def array_literal(values: Iterable[str]) -> str:
    """A text[] literal: {a,b}, with an element quoted if it is empty, is NULL, or holds a
    character the array syntax gives a meaning to."""
    return "{" + ",".join(_array_element(value) for value in values) + "}"


def _array_element(value: str) -> str:
    if value and value.upper() != "NULL" and _ARRAY_SPECIAL.isdisjoint(value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _money(value: Any) -> str:
    return str(value)


def _text_list(values: Any) -> str:
    return copy_escaped(array_literal(values))


# Per kind: what COPY is sent in place of the canonical text (None: the canonical text itself).
_COPY_OF: dict[str, Callable[[Any], str] | None] = {
    "uuid": None,
    "int": None,
    "timestamp": None,
    "text": copy_escaped,
    "money": _money,
    "text_list": _text_list,
}


class CopyText:
    """One table's rows as COPY text, in chunks; `count` and `checksum` (rows.row_hash summed)
    grow as the chunks are made, and are complete once `chunks` is exhausted."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.count = 0
        self.checksum = 0
        self._texts = TEXT_OF[table.name]
        self._replaced = [
            (position, replace)
            for position, column in enumerate(table.columns)
            if (replace := _COPY_OF[column.kind]) is not None
        ]

    def chunks(self, table_rows: Iterable[Row], rows_per_chunk: int = ROWS_PER_CHUNK) -> Iterator[str]:
        texts_of, replaced, md5 = self._texts, self._replaced, hashlib.md5
        lines: list[str] = []
        for row in table_rows:
            texts = [
                NULL_TEXT if value is None else text(value) for value, text in zip(row, texts_of, strict=True)
            ]
            digest = md5(SEPARATOR.join(texts).encode(), usedforsecurity=False).digest()
            self.checksum += int.from_bytes(digest[:8], "big") >> 4  # rows.row_hash, from the bytes
            self.count += 1
            for position, replace in replaced:
                value = row[position]
                if value is not None:
                    texts[position] = replace(value)
            lines.append("\t".join(texts))
            if len(lines) == rows_per_chunk:
                lines.append("")
                yield "\n".join(lines)
                lines = []
        if lines:
            lines.append("")
            yield "\n".join(lines)
