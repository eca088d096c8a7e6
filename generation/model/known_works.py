"""Known works: the top-line melodies of every work music21 ships, for the originality index.

A listener's licence promises the track copies no known work, not only none the model trained
on. This module reads every score in music21's bundled corpus that holds notes (Bach chorales
and the Bach works outside the chorale set, Essen folksongs, O'Neill's, Ryan's, Aird's,
Beethoven, Mozart, Haydn, Palestrina, Monteverdi, the Trecento, ...; Roman-numeral analyses
are harmony, not melodies, and are left out), takes every part's top line (highest pitch per
onset), collapses repeated notes and keeps the semitone intervals. Collapsing repeats makes a
line invariant to re-timing (changed durations, split or tied notes); intervals make it
invariant to transposition.

``read_works(workers)`` returns the works and a manifest (music21 version, every work's id,
collection, parts and whether the model trained on it); ``generation.model.originality``
turns them into the shipped index. Each work is named ``<corpus path>#<number in its file>``
(``essenFolksong/han1.abc#12``), which is the training corpus's id for the collections it has,
except that chorales are ``bach/...`` here and ``bach_chorales/...`` there.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import re
from pathlib import Path

import numpy as np

log = logging.getLogger("cadenza.known_works")

SKIP_SUFFIXES = {".rntxt"}  # Roman-numeral analyses: chord symbols, no melody
CLIP = 60


def corpus_root() -> Path:
    import music21

    return Path(music21.__file__).resolve().parent / "corpus"


def list_sources() -> list[str]:
    """Every music file of music21's core corpus (relative paths, sorted)."""
    from music21 import corpus

    root = corpus_root()
    paths = corpus.corpora.CoreCorpus().getPaths()
    return sorted({str(Path(p).resolve().relative_to(root)) for p in paths if Path(p).suffix not in SKIP_SUFFIXES})


def line_intervals(pitches: list[int] | np.ndarray) -> np.ndarray:
    """A top line's pitches -> intervals with repeated notes collapsed (no zeros), clipped."""
    seq = np.asarray(pitches, dtype=np.int64)
    if len(seq) < 2:
        return np.zeros(0, dtype=np.int64)
    steps = np.diff(seq)
    return np.clip(steps[steps != 0], -CLIP, CLIP)


def part_top_line(part) -> list[int]:
    """Highest sounding pitch per onset of one music21 part (voices merged; grace notes skipped)."""
    top: dict[float, int] = {}
    for el in part.flatten().notes:
        if float(el.quarterLength) <= 0:
            continue
        midis = [p.midi for p in el.pitches if 0 <= p.midi <= 127]
        if not midis:
            continue
        t = round(float(el.offset), 4)
        top[t] = max(top.get(t, -1), max(midis))
    return [top[t] for t in sorted(top)]


def _score_lines(score) -> list[np.ndarray]:
    parts = list(score.parts) if hasattr(score, "parts") and len(score.parts) else [score]
    lines = []
    for part in parts:
        iv = line_intervals(part_top_line(part))
        if len(iv):
            lines.append(iv.astype(np.int8))
    return lines


_MIDI: dict[str, int] = {}


def _midi(name: str) -> int:
    if name not in _MIDI:
        from music21 import pitch

        _MIDI[name] = pitch.Pitch(name).midi
    return _MIDI[name]


def _abc_top_line(handler) -> list[int]:
    """The pitches of one single-voice ABC tune from music21's tokens (its key and accidentals
    applied by music21; chords give their top note; grace notes skipped)."""
    pitches, grace = [], False
    for tok in handler.tokens:
        kind = type(tok).__name__
        if kind == "ABCGraceStart":
            grace = True
        elif kind == "ABCGraceStop":
            grace = False
        elif grace:
            continue
        elif kind == "ABCNote":
            if tok.pitchName and not tok.isRest:
                pitches.append(_midi(tok.pitchName))
        elif kind == "ABCChord":
            chord = [_midi(s.pitchName) for s in tok.subTokens
                     if type(s).__name__ == "ABCNote" and s.pitchName and not s.isRest]
            if chord:
                pitches.append(max(chord))
    return [p for p in pitches if 0 <= p <= 127]


def _read_abc(rel: str) -> list[dict] | None:
    """Single-voice ABC books read from music21's tokens without building scores (4x faster,
    the same pitches as ``converter.parse``); None for a file with voices (``V:``)."""
    from music21 import abcFormat

    text = (corpus_root() / rel).read_text(encoding="latin-1")
    if any(line.startswith("V:") for line in text.splitlines()):
        return None
    handler = abcFormat.ABCHandler()
    handler.process(text)
    collection, out = rel.split("/")[0], []
    for number, tune in handler.splitByReferenceNumber().items():
        wid = f"{rel}#{number}"
        iv = line_intervals(_abc_top_line(tune))
        if len(iv):
            out.append({"id": wid, "collection": collection, "source": f"music21/corpus/{rel}",
                        "lines": [iv.astype(np.int8)]})
        else:
            out.append({"skip": True, "id": wid, "collection": collection, "reason": "no melodic interval"})
    return out


_KERN_NOTE = re.compile(r"([A-Ga-g])\1*")
_KERN_PC = {"c": 0, "d": 2, "e": 4, "f": 5, "g": 7, "a": 9, "b": 11}


def _kern_midi(token: str) -> int | None:
    """MIDI pitch of one **kern note token (``4cc#``, ``[2G-``), None for a rest or grace note."""
    if "r" in token or "q" in token or "Q" in token:
        return None
    m = _KERN_NOTE.search(token)
    if not m:
        return None
    letters = m.group(0)
    octave = 4 + len(letters) - 1 if letters[0].islower() else 3 - (len(letters) - 1)
    alter = 0
    for ch in token[m.end():]:
        if ch == "#":
            alter += 1
        elif ch == "-":
            alter -= 1
        elif ch != "n":
            break
    return 12 * (octave + 1) + _KERN_PC[letters[0].lower()] + alter


def _read_kern(rel: str) -> list[dict] | None:
    """A Humdrum file without spine splits or merges read spine by spine (**kern writes every
    accidental, so no key needs applying; 400x faster than ``converter.parse``, the same lines);
    None for a file whose spines split, merge or move."""
    text = (corpus_root() / rel).read_text(encoding="latin-1")
    cols: list[int] | None = None
    pitches: dict[int, list[int]] = {}
    for line in text.splitlines():
        if not line or line.startswith("!"):
            continue
        fields = line.split("\t")
        if line.startswith("**"):
            if cols is not None:
                return None
            cols = [i for i, f in enumerate(fields) if f == "**kern"]
            pitches = {i: [] for i in cols}
            continue
        if cols is None:
            return None
        if line.startswith("*"):
            if any(f in ("*^", "*v", "*x", "*+") for f in fields) or (
                    "*-" in fields and any(f != "*-" for f in fields)):
                return None
            continue
        if line.startswith("="):
            continue
        if len(fields) <= max(cols, default=-1):
            return None
        for i in cols:
            if fields[i] == ".":
                continue
            chord = [p for p in (_kern_midi(t) for t in fields[i].split(" ")) if p is not None and 0 <= p <= 127]
            if chord:
                pitches[i].append(max(chord))
    if not cols:
        return None
    lines = [line_intervals(pitches[i]).astype(np.int8) for i in reversed(cols)]  # top voice first
    lines = [x for x in lines if len(x)]
    collection, wid = rel.split("/")[0], f"{rel}#1"
    if not lines:
        return [{"skip": True, "id": wid, "collection": collection, "reason": "no melodic interval"}]
    return [{"id": wid, "collection": collection, "source": f"music21/corpus/{rel}", "lines": lines}]


def read_source(rel: str, *, fast: bool = True) -> list[dict]:
    """Parse one corpus file into works ``{"id", "collection", "source", "lines"}`` (or a skip)."""
    from music21 import converter, stream

    collection = rel.split("/")[0]
    reader = {".abc": _read_abc, ".krn": _read_kern}.get(Path(rel).suffix) if fast else None
    if reader is not None:
        try:
            works = reader(rel)
        except Exception:  # noqa: BLE001 - music21's full parser gets the file instead
            works = None
        if works is not None:
            return works
    try:
        obj = converter.parse(str(corpus_root() / rel))
    except OSError:
        raise  # a file missing from the corpus (music21 being reinstalled?) stops the build
    except Exception as error:  # noqa: BLE001 - a file music21 cannot read is listed, not fatal
        return [{"skip": True, "id": rel, "collection": collection,
                 "reason": f"parse failed: {type(error).__name__}: {error}"[:200]}]
    scores = list(obj.scores) if isinstance(obj, stream.Opus) else [obj]
    out = []
    for k, score in enumerate(scores):
        md = score.metadata
        number = (md.number if md is not None and md.number else None) or str(k + 1)
        wid = f"{rel}#{number}"
        try:
            lines = _score_lines(score)
        except Exception as error:  # noqa: BLE001
            out.append({"skip": True, "id": wid, "collection": collection,
                        "reason": f"{type(error).__name__}: {error}"[:200]})
            continue
        if not lines:
            out.append({"skip": True, "id": wid, "collection": collection, "reason": "no melodic interval"})
            continue
        out.append({"id": wid, "collection": collection, "source": f"music21/corpus/{rel}", "lines": lines})
    return out


def training_splits() -> dict[str, str]:
    """Known-work id -> the training corpus split it is in ("train", "valid", "test")."""
    import json

    from generation.model.corpus import DEFAULT_MANIFEST

    manifest = json.loads(Path(DEFAULT_MANIFEST).read_text())
    out = {}
    for piece in manifest["pieces"]:
        rel = piece["source"].removeprefix("music21/corpus/")
        out[f"{rel}#{piece['number']}"] = piece["split"]
    return out


def read_works(workers: int = 2, *, limit: int | None = None, progress: bool = False) -> tuple[list[dict], dict]:
    """(works in id order, with identical melodies kept once; manifest of what was read)."""
    import hashlib

    import music21

    sources = list_sources()
    if limit:
        sources = sources[:limit]
    records: list[dict] = []
    root = corpus_root()
    heavy_first = sorted(sources, key=lambda rel: -(root / rel).stat().st_size)  # even out the workers
    with mp.get_context("fork").Pool(workers) as pool:
        it = pool.imap_unordered(read_source, heavy_first, chunksize=1)
        if progress:
            from tqdm import tqdm

            it = tqdm(it, total=len(sources), desc="known works", unit="file")
        for recs in it:
            records.extend(recs)
    skipped = sorted(({"id": r["id"], "reason": r["reason"]} for r in records if r.get("skip")),
                     key=lambda r: r["id"])
    splits = training_splits()
    works, seen, duplicates = [], {}, []
    for r in sorted((r for r in records if not r.get("skip")), key=lambda r: r["id"]):
        digest = hashlib.sha256(b"|".join(line.tobytes() for line in r["lines"])).hexdigest()
        if digest in seen:
            duplicates.append({"id": r["id"], "same_melodies_as": seen[digest]})
            continue
        seen[digest] = r["id"]
        r["training"] = splits.get(r["id"]) or splits.get(r["id"].replace("bach/", "bach_chorales/", 1))
        works.append(r)
    if not works:
        raise RuntimeError("no known work could be read from music21's corpus")
    collections: dict[str, dict] = {}
    for w in works:
        c = collections.setdefault(w["collection"], {"works": 0, "trained_on": 0, "intervals": 0})
        c["works"] += 1
        c["trained_on"] += w["training"] == "train"
        c["intervals"] += int(sum(len(line) for line in w["lines"]))
    manifest = {
        "format": "cadenza-known-works-v1",
        "music21_version": music21.__version__,
        "corpus": "music21 core corpus (music21.corpus.corpora.CoreCorpus), Roman-numeral analyses left out",
        "melody": "every part's highest pitch per onset, grace notes left out, repeated notes collapsed, "
                  f"semitone intervals clipped to +-{CLIP}",
        "source_files": len(sources),
        "collections": dict(sorted(collections.items())),
        "works": [{"id": w["id"], "parts": len(w["lines"]), "intervals": int(sum(len(x) for x in w["lines"])),
                   "training": w["training"] or "not trained on"} for w in works],
        "duplicates": duplicates,
        "skipped": skipped,
    }
    return works, manifest
