"""Matter files in, results out: JSONL, CSV and XLSX, one row at a time.

- `encoding` — bytes → text (BOM, UTF-8, GB18030, UTF-16 with or without BOM)
- `columns`  — formats, header aliases, the result columns and their cells
- `readers`  — `read_matters` / `open_reader`: a file → `Row`s; a row that cannot be read is a row too
- `writers`  — results, the --errors file and any text file, through `.part` and a rename
- `resume`   — what an existing output holds, and whether continuing it would mix two runs

The public readers are exported here, so embedders (and the web app) need no private imports.
"""
from ..errors import FormatError
from .columns import ALIASES, ERROR_COLUMNS, FORMATS, JSONL_COLUMNS, RESULT_COLUMNS, STATUS_ZH, format_of
from .readers import Reader, Row, open_reader, read_matters
from .resume import part_path

__all__ = [
    "ALIASES",
    "ERROR_COLUMNS",
    "FORMATS",
    "FormatError",
    "JSONL_COLUMNS",
    "RESULT_COLUMNS",
    "Reader",
    "Row",
    "STATUS_ZH",
    "format_of",
    "open_reader",
    "part_path",
    "read_matters",
]
