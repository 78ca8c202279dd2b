"""Generate ecorules/data/readings.tsv: which common Chinese characters share a reading, tones ignored.

    python ecorules/data/make_readings.py      (needs pypinyin; the test extra installs it)

One line per toneless reading: `yan<TAB>言研烟眼…` — every character of the CJK Unified Ideographs block
(U+4E00–U+9FFF) whose first (most common) reading in pypinyin's character table it is. Only the first: a typo
comes from picking a character by its everyday reading, and the rare readings of polyphones (厂 is also read
yán) would hear words where there are none (炼油厂 as 油烟). The
`sounds_like` test (ecorules/sounds.py) reads this file instead of importing pypinyin at run time: the import
costs ~180 ms, the file ~2 ms. tests/test_sounds.py regenerates it in memory and fails when it is stale.
"""
from __future__ import annotations

import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent / "readings.tsv"
TONELESS = str.maketrans("āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ", "aaaaeeeeiiiioooouuuuvvvvvnnnm")
FIRST, LAST = 0x4E00, 0x9FFF


def table() -> str:
    from pypinyin.pinyin_dict import pinyin_dict
    by_reading: dict[str, list] = {}
    for code in range(FIRST, LAST + 1):
        entry = pinyin_dict.get(code)
        if entry:
            reading = entry.translate(TONELESS).split(",")[0]
            by_reading.setdefault(reading, []).append(chr(code))
    return "".join(f"{reading}\t{''.join(chars)}\n" for reading, chars in sorted(by_reading.items()))


def main() -> int:
    OUT.write_text(table(), encoding="utf-8")
    print(f"{OUT}: {OUT.stat().st_size} bytes", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
