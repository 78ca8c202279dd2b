"""Reading matters and writing resolutions (JSONL for now; CSV / XLSX come with the batch issue)."""
from __future__ import annotations

import json
from typing import IO, Iterator, Union


class BadRow:
    """A line that could not be read as a matter: keeps its line number and what was wrong."""

    def __init__(self, line: int, message: str, matter_id=None):
        self.line, self.message, self.matter_id = line, message, matter_id


def read_jsonl(stream: IO[str]) -> Iterator[Union[dict, BadRow]]:
    """One dict per non-blank line; a line that is not a JSON object becomes a BadRow (never skipped)."""
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            yield BadRow(number, f"第 {number} 行不是有效的 JSON（第 {exc.colno} 列：{exc.msg}）")
            continue
        if not isinstance(value, dict):
            yield BadRow(number, f"第 {number} 行应为 JSON 对象，得到 {type(value).__name__}")
            continue
        yield value


def write_jsonl(resolution, stream: IO[str]) -> None:
    stream.write(resolution.model_dump_json())
    stream.write("\n")
