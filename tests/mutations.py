"""Seeded mutations of input files for the reader fuzz tests, and the loop that checks each
mutated case: the reader gives a result or an :class:`~ipf.interface.errors.InputError` (a
``FormatError`` mostly) whose one-line message names the file, never another exception and
never a hang.

``IPF_FUZZ_CASES`` sets the number of cases per reader (default 300, a few seconds; ``make fuzz``:
10 000)."""

from __future__ import annotations

import os
import random
import signal
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from ipf.interface.errors import InputError

__all__ = ["CASES", "JUNK", "Outcome", "fuzz_reader", "mutate_bytes", "mutate_lines", "mutate_xml"]

CASES = int(os.environ.get("IPF_FUZZ_CASES", "300"))
CASE_SECONDS = 5.0
JUNK = ["", " ", "0", "-0", "-1", "1", "NaN", "nan", "inf", "-inf", "Infinity", "1e309", "-1e309", "1e-400",
        "99999999999999999999", "-99999999999999999999", "1e18", "4294967296", "65536", "0x10", "1,5",
        "1.5.5", "\u00b2", "1_000", "12 ", " 12 13", "x", "x" * 300, "\u00e9", "\u0663", "\u00a0", "true",
        "false", "yes",
        "2023-13-45T99:99:99Z", "9999-12-31T23:59:59.999999Z", "0001-01-01T00:00:00Z", "UTC=", "S2Z",
        "B13", "B8A", "13", "00", "-12", "APPLIED", "LINE_A", "NO_TDI", "mm", "rad", "LEFT", "1 2 3",
        "1 2 3 4 5", "NaN NaN NaN", "1e309 0 0"]
_BREAK = [b"", b"<", b">", b"&", b"]]>", b"<!--", b"\x00", b"\xff", b"\xc3", b"<!DOCTYPE a>", b"&e;"]


def mutate_xml(data: bytes, rng: random.Random, values: Sequence[str] = JUNK) -> bytes:
    """1 to 4 edits of the XML tree of ``data`` (an element deleted, duplicated, moved among its
    siblings or renamed, a text or an attribute replaced by one of ``values``), then with a small
    probability bytes broken or the document cut short."""
    root = etree.fromstring(data, etree.XMLParser(huge_tree=True))
    elements = [e for e in root.iter() if isinstance(e.tag, str)]
    for _ in range(rng.randint(1, 4)):
        el = rng.choice(elements)
        parent = el.getparent()
        op = rng.randrange(7)
        if op in (0, 1):
            el.text = rng.choice(values)
        elif op == 2 and parent is not None:
            parent.remove(el)
            elements = [e for e in root.iter() if isinstance(e.tag, str)]
        elif op == 3 and parent is not None:
            parent.insert(parent.index(el), etree.fromstring(etree.tostring(el)))
            elements = [e for e in root.iter() if isinstance(e.tag, str)]
        elif op == 4 and parent is not None and len(parent) > 1:
            parent.remove(el)
            parent.insert(rng.randrange(len(parent) + 1), el)
        elif op == 5:
            name = rng.choice(list(el.attrib) or ["id", "unit"])
            el.set(name, rng.choice(values))
        elif op == 6 and el.attrib:
            del el.attrib[rng.choice(list(el.attrib))]
    out = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    if rng.random() < 0.08:
        at = rng.randrange(len(out))
        out = out[:at] + rng.choice(_BREAK) + out[at + rng.randint(0, 8):]
    if rng.random() < 0.04:
        out = out[:rng.randrange(len(out))]
    return out


def mutate_bytes(data: bytes, rng: random.Random, edits: int = 4) -> bytes:
    """1 to ``edits`` byte edits: a run deleted, a run duplicated, bytes flipped or set to 0x00 /
    0xFF, a stretch of random bytes inserted, the data cut short."""
    out = bytearray(data)
    for _ in range(rng.randint(1, edits)):
        if not out:
            break
        at = rng.randrange(len(out))
        op = rng.randrange(6)
        if op == 0:
            del out[at:at + rng.randint(1, 64)]
        elif op == 1:
            end = min(len(out), at + rng.randint(1, 400))
            out[end:end] = out[at:end]
        elif op == 2:
            out[at] ^= 1 << rng.randrange(8)
        elif op == 3:
            out[at:at + rng.randint(1, 8)] = bytes([rng.choice((0, 0xFF))]) * rng.randint(1, 8)
        elif op == 4:
            out[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 32)))
        else:
            del out[at:]
    return bytes(out)


def mutate_lines(data: bytes, rng: random.Random, values: Sequence[str] = JUNK) -> bytes:
    """1 to 4 edits of the lines of a text file (a line deleted, duplicated or moved, one of its
    whitespace-separated words replaced by one of ``values``), then with a small probability the
    bytes edited (:func:`mutate_bytes`: non-UTF-8 bytes, truncation)."""
    lines = data.split(b"\n")
    for _ in range(rng.randint(1, 4)):
        if not lines:
            break
        i = rng.randrange(len(lines))
        op = rng.randrange(5)
        if op == 0:
            del lines[i]
        elif op == 1:
            lines.insert(i, lines[i])
        elif op == 2:
            lines.insert(rng.randrange(len(lines)), lines.pop(i))
        else:
            words = lines[i].split(b" ")
            j = rng.randrange(len(words))
            words[j] = rng.choice(values).encode()
            lines[i] = b" ".join(words)
    out = b"\n".join(lines)
    return mutate_bytes(out, rng, 2) if out and rng.random() < 0.1 else out


class _Hang(Exception):
    pass


@contextmanager
def _deadline(seconds: float):
    def ring(signum, frame):
        raise _Hang()

    previous = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass
class Outcome:
    """What the cases of one reader gave."""

    cases: int = 0
    accepted: int = 0
    refused: int = 0
    seconds: float = 0.0

    def __str__(self) -> str:
        return f"{self.cases} cases, {self.refused} refused, {self.accepted} accepted, {self.seconds:.1f} s"


def fuzz_reader(name: str, make_case: Callable[[random.Random], Iterable[Path]],
                read: Callable[[Path], object], *, cases: int = CASES, seed: int = 20260601,
                refused: tuple[type[BaseException], ...] = (InputError,)) -> Outcome:
    """Run ``cases`` cases: ``make_case(rng)`` writes a mutated file (and the files beside it) and
    gives their paths, the first one the path to read; ``read(path)`` must return or raise one of
    ``refused`` with a one-line message naming one of these files, within :data:`CASE_SECONDS`.
    Any other exception, or a hang, fails with the case number and the files kept for a rerun."""
    rng = random.Random(f"{name}:{seed}")
    out = Outcome()
    started = time.monotonic()
    for n in range(cases):
        files = list(make_case(rng))
        t0 = time.monotonic()
        try:
            with _deadline(CASE_SECONDS):
                read(files[0])
            out.accepted += 1
        except _Hang:
            raise AssertionError(f"{name} case {n}: no answer within {CASE_SECONDS} s reading {files[0]}") from None
        except refused as exc:
            message = str(exc)
            assert "\n" not in message.strip(), f"{name} case {n}: message of several lines: {message!r}"
            assert any(str(f) in message for f in files), f"{name} case {n}: message names no file: {message}"
            out.refused += 1
        except Exception as exc:  # the point of the test
            raise AssertionError(f"{name} case {n}: {type(exc).__name__}: {exc} (files {files})") from exc
        assert time.monotonic() - t0 < CASE_SECONDS, f"{name} case {n} took too long"
        out.cases += 1
    out.seconds = time.monotonic() - started
    print(f"\n{name} fuzz: {out}")
    return out
