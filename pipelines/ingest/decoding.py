"""Bytes to text lines: UTF-8, UTF-16, Windows-1258 and legacy TCVN3/VNI font bytes, line by line.

Why a module of its own: deciding how a commune's bytes read is the first thing that can garble a
name, and it is decided per line (lists are pasted together from files saved differently), so the
rule, its penalties and the notes that tell the officer which lines were read how live together.
Ingestion only decodes bytes; legacy TCVN3/VNI text inside a value is converted per value by the
normalizer (`matching.normalize.encodings`).
"""

from __future__ import annotations

import codecs
import functools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from matching.normalize.encodings import (
    all_words_valid,
    tcvn3_to_unicode,
    vni_to_unicode,
)
from matching.reference.letters import VIET_LETTERS

# How a line's bytes were read, in Vietnamese for the run's notes.
ENCODING_LABELS = {
    "utf-8": "UTF-8",
    "cp1258": "Windows-1258",
    "legacy": "phông chữ cũ TCVN3/VNI (đọc từng byte)",
}
LEGACY_BYTES = "latin-1 (legacy font bytes)"


@dataclass
class Decoded:
    """A file's text and how each physical line was read (1 = first line).

    `encoding` names the file's reading when one applies to every line, else
    "mixed: …"; `runs` lists (first line, last line, encoding key) — ASCII-only lines join the
    run they sit in; `unreadable` holds the lines that no reading turns into valid Vietnamese."""

    text: str
    encoding: str
    runs: list[tuple[int, int, str]] = field(default_factory=list)
    unreadable: set[int] = field(default_factory=set)


def decode_lines(data: bytes) -> Decoded:
    """Decode a text file line by line, each line with its own encoding.

    Why per line: commune lists are pasted together — the first half saved as UTF-8, the second
    as Windows-1258, a few lines typed with a TCVN3 or VNI font — and deciding once for the whole
    file turns every name of the other halves into mojibake. A file that is valid UTF-8 (or has a
    UTF-16 BOM) is read whole, the fast path. Otherwise each line that is not UTF-8 is read as
    Windows-1258 when that gives valid Vietnamese syllables, else as legacy-font bytes (Latin-1;
    the normalizer converts TCVN3/VNI per value) when every value repairs, else it is flagged
    unreadable (the better of the two readings is kept, never silently)."""
    if data.startswith(codecs.BOM_UTF8):
        try:
            text = data[len(codecs.BOM_UTF8) :].decode("utf-8")
            return Decoded(nfc(text), "utf-8-sig")
        except UnicodeDecodeError:
            data = data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return Decoded(nfc(data.decode("utf-16")), "utf-16")
        except UnicodeDecodeError:
            pass
    else:
        try:
            return Decoded(nfc(data.decode("utf-8")), "utf-8")
        except UnicodeDecodeError:
            pass
    parts: list[str] = []
    keys: list[str | None] = []  # None: ASCII only, fits any reading
    unreadable: set[int] = set()
    block: list[tuple[int, bytes]] = []  # consecutive lines that are neither ASCII nor UTF-8

    def flush() -> None:
        # a block whose Windows-1258 reading has only Vietnamese words is decided at once (the
        # per-line rule would give the same answer for each of its lines, only slower)
        text = unicodedata.normalize("NFC", b"\n".join(raw for _, raw in block).decode("cp1258", errors="replace"))
        if not _penalty(text):
            parts.extend(text.split("\n"))
            keys.extend(["cp1258"] * len(block))
        else:
            for n, raw in block:
                line, key, ok = _decode_line(raw)
                parts.append(line)
                keys.append(key)
                if not ok:
                    unreadable.add(n)
        block.clear()

    for n, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.isascii():
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                block.append((n, raw))
                if len(block) >= 512:
                    flush()
                continue
            key = "utf-8"
        else:
            line, key = raw.decode("ascii"), None
        if block:
            flush()
        parts.append(unicodedata.normalize("NFC", line) if key else line)
        keys.append(key)
    if block:
        flush()
    if parts and parts[-1] == "":  # the final newline
        keys.pop()
    runs: list[tuple[int, int, str]] = []
    for n, key in enumerate(keys, start=1):
        if key is None and runs:
            runs[-1] = (runs[-1][0], n, runs[-1][2])
        elif runs and runs[-1][2] == key:
            runs[-1] = (runs[-1][0], n, key)
        elif key is not None:
            runs.append((runs[-1][1] + 1 if runs else 1, n, key))
    used = list(dict.fromkeys(k for _, _, k in runs))
    names = {"utf-8": "utf-8", "cp1258": "cp1258", "legacy": LEGACY_BYTES}
    encoding = (
        names[used[0]] if len(used) == 1 else ("mixed: " + ", ".join(names[k] for k in used) if used else "utf-8")
    )
    return Decoded("\n".join(parts), encoding, runs, unreadable)


def nfc(text: str) -> str:
    """`unicodedata.normalize("NFC", text)`, line by line: the same text (a line break never
    composes with its neighbours), but a line already in NFC is returned by the quick check, while
    one decomposed name in a file sent all 19 MB of a 100,000-row file through the full algorithm
    (1.0 CPU-s; 0.2 line by line)."""
    if text.isascii():
        return text
    normalize = unicodedata.normalize
    return "\n".join([normalize("NFC", line) for line in text.split("\n")])


def _decode_line(raw: bytes) -> tuple[str, str | None, bool]:
    """(text, encoding key or None for ASCII, readable) of one line.

    The reading (Windows-1258, or legacy-font bytes converted as TCVN3 or VNI) with the lowest
    penalty wins, Windows-1258 on a tie: a word costs 1 when it is made of Vietnamese letters but
    is not a syllable (ethnic-minority names such as "Đắk Lắk", "Hlơi" — or VNI marks read as
    Windows-1258, "Nguyeăn"), and 10 when it holds a character Vietnamese text never has (µ, Ç,
    Ø, a stray combining mark, a byte no code page maps). The line is unreadable when even the
    winning reading has such a character."""
    if raw.isascii():
        return raw.decode("ascii"), None, True
    try:
        return unicodedata.normalize("NFC", raw.decode("utf-8")), "utf-8", True
    except UnicodeDecodeError:
        pass
    win = unicodedata.normalize("NFC", raw.decode("cp1258", errors="replace"))
    win_costs = [_word_penalty(w) for w in _words(win)]
    if not any(win_costs):
        return win, "cp1258", True
    words = _words(raw.decode("latin-1"))
    tcvn3_costs = [_legacy_penalty(w)[0] for w in words]
    vni_costs = [_legacy_penalty(w)[1] for w in words]
    best = min(tcvn3_costs, vni_costs, key=sum)
    if sum(best) < sum(win_costs):
        return raw.decode("latin-1"), "legacy", 10 not in best
    return win, "cp1258", 10 not in win_costs


# Words split at ASCII that is not a letter (one simple character class: fast on long files)
_NOT_LETTERS = re.compile(r"[\x00-\x40\x5b-\x60\x7b-\x7f]+")


def _words(text: str) -> list[str]:
    return [w for w in _NOT_LETTERS.split(text) if w]


@functools.lru_cache(maxsize=1 << 18)
def _word_penalty(word: str) -> int:
    """0: ASCII or a Vietnamese syllable; 1: Vietnamese letters only; 10: anything else."""
    if word.isascii() or all_words_valid(word):
        return 0
    if "\ufffd" not in word and all(ch.isascii() or ch in VIET_LETTERS for ch in word):
        return 1
    return 10


@functools.lru_cache(maxsize=1 << 18)
def _legacy_penalty(word: str) -> tuple[int, int]:
    """The penalty of a word read as Latin-1 bytes once converted as TCVN3 and as VNI."""
    if word.isascii():
        return 0, 0
    return (
        _word_penalty(unicodedata.normalize("NFC", tcvn3_to_unicode(word))),
        _word_penalty(unicodedata.normalize("NFC", vni_to_unicode(word))),
    )


def _penalty(text: str) -> int:
    """Sum of word penalties (each distinct word is judged once: names and places repeat)."""
    return sum(_word_penalty(w) for w in _words(text))


def line_ranges(lines: Sequence[int], limit: int = 8) -> str:
    """ "3–5, 9, 12–40" for the run's notes (line numbers only, never content)."""
    out: list[str] = []
    for n in sorted(lines):
        if out and out[-1][1] == n - 1:
            out[-1] = (out[-1][0], n)
        else:
            out.append((n, n))
    text = ", ".join(f"{a}–{b}" if a != b else str(a) for a, b in out[:limit])
    return text + (f" và {len(out) - limit} đoạn khác" if len(out) > limit else "")


def encoding_notes(name: str, decoded: Decoded) -> list[str]:
    """What the run tells the officer about how the file's lines were read (no content)."""
    notes: list[str] = []
    keys = {k for _, _, k in decoded.runs}
    if len(keys) > 1:
        notes.append(
            f"Tệp {name}: các dòng được đọc theo bảng mã riêng của từng dòng: "
            + "; ".join(
                f"dòng {a}–{b}: {ENCODING_LABELS[k]}" if a != b else f"dòng {a}: {ENCODING_LABELS[k]}"
                for a, b, k in decoded.runs
            )
            + "."
        )
    elif keys == {"cp1258"}:
        notes.append(f"Tệp {name}: đọc theo bảng mã Windows-1258.")
    elif keys == {"legacy"}:
        notes.append(f"Tệp {name}: tệp lưu theo phông chữ cũ (TCVN3/VNI), đã đọc từng byte để chuyển sang Unicode.")
    if decoded.unreadable:
        notes.append(
            f"Tệp {name}: {len(decoded.unreadable):,} dòng không đọc được thành chữ tiếng Việt hợp lệ "
            f"với bảng mã nào (dòng {line_ranges(decoded.unreadable)}); "
            f"các dòng này được đánh dấu '{UNREADABLE_TEXT}' để kiểm tra lại tệp gốc."
        )
    return notes


UNREADABLE_TEXT = "dòng không đọc được bảng mã"
LINE_PROBLEM = "dong:text_undecodable"  # problems entry of a row whose line no encoding reads
