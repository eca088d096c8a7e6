"""Originality: the longest transposition- and re-timing-invariant melodic match against known works.

Each part's melody (highest note per onset) becomes a sequence of semitone intervals with
repeated notes collapsed: transposing a line leaves its intervals, and changing its rhythm
(other durations, notes split, tied or merged into repeats) leaves its collapsed pitch sequence.
The index holds the intervals of every work music21 ships with melodies
(``generation.model.known_works``: the training collections and those not trained on, e.g. the
Essen folksongs, the Bach works outside the chorale set, Palestrina, Beethoven, Mozart, Haydn)
and a sorted table of all interval ``K``-grams. A query looks up its ``K``-grams and extends every
left-maximal hit forward (vectorised), giving the longest run of consecutive matching intervals
with any known work. ``too_close`` when that run is >= ``TOO_CLOSE_INTERVALS``; the threshold was
chosen from freshly composed pieces (``--false-alarms``, README "Originality against known works").

The index ships as ``generation/checkpoints/originality-index.npz`` with its list of works in
``originality-manifest.json`` and is rebuilt with ``python -m generation.model.originality --build``.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from generation.midi_lib import pretty_midi
from generation.model.known_works import line_intervals
from generation.model.vocab import tokens_to_piece

REPO = Path(__file__).resolve().parents[2]
DEFAULT_INDEX = REPO / "generation" / "checkpoints" / "originality-index.npz"
DEFAULT_INDEX_MANIFEST = REPO / "generation" / "checkpoints" / "originality-manifest.json"
TOO_CLOSE_INTERVALS = 18
WHOLE_LINE_INTERVALS = 16
K = 5
SENTINEL = 127  # separates melodies in the index; never equals an interval (clipped to +-60)
QUERY_SEP = -127  # separates a query's melodies; equals neither an interval nor SENTINEL
BASE = 256


def melodies_from_notes(notes_by_part: list[list[tuple[float, int]]]) -> list[np.ndarray]:
    """(onset, pitch) lists per part -> interval arrays of each part's top line, repeats collapsed."""
    out = []
    for notes in notes_by_part:
        top: dict[float, int] = {}
        for t, p in notes:
            k = round(t, 4)
            top[k] = max(top.get(k, -1), p)
        iv = line_intervals([top[t] for t in sorted(top)])
        if len(iv):
            out.append(iv)
    return out


def melodies(pm_or_notes) -> list[np.ndarray]:
    if isinstance(pm_or_notes, pretty_midi.PrettyMIDI):
        parts = [[(n.start, n.pitch) for n in inst.notes]
                 for inst in pm_or_notes.instruments if not inst.is_drum]
        return melodies_from_notes(parts)
    return melodies_from_notes(pm_or_notes)


def token_melodies(tokens: list[int]) -> list[np.ndarray]:
    piece = tokens_to_piece(tokens)
    parts: list[list[tuple[float, int]]] = [[] for _ in piece.families]
    for n in piece.notes:
        parts[n.part].append((float(n.start), n.pitch))
    return melodies_from_notes(parts)


def _codes(seq: np.ndarray) -> np.ndarray:
    """K-gram codes for every start position (int64); windows crossing a separator are -1."""
    n = len(seq) - K + 1
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    code = np.zeros(n, dtype=np.int64)
    bad = np.zeros(n, dtype=bool)
    for m in range(K):
        w = seq[m:m + n]
        code = code * BASE + (w + 64)
        bad |= (w == SENTINEL) | (w == QUERY_SEP)
    code[bad] = -1
    return code


@dataclass
class Index:
    seq: np.ndarray  # all melodies' intervals, SENTINEL after each melody
    owner: np.ndarray  # work index of each position
    names: list[str]
    sorted_codes: np.ndarray
    sorted_pos: np.ndarray
    manifest_sha256: str  # the training corpus manifest the index was built beside
    meta: dict = field(default_factory=dict)  # music21 version, works manifest sha256, ...


def _concat(lines_by_work: list[list[np.ndarray]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(seq, melody lengths incl. the sentinel, work of each melody)."""
    seqs, lengths, owners = [], [], []
    for i, lines in enumerate(lines_by_work):
        for mel in lines:
            seqs += [np.asarray(mel, dtype=np.int64), np.array([SENTINEL])]
            lengths.append(len(mel) + 1)
            owners.append(i)
    seq = np.concatenate(seqs).astype(np.int64) if seqs else np.zeros(0, dtype=np.int64)
    return seq, np.asarray(lengths, dtype=np.int32), np.asarray(owners, dtype=np.int32)


def build_index(pieces: list[tuple[str, list[int]]], manifest_sha256: str) -> Index:
    """An index of token pieces (name, tokens): each part's top line."""
    return build_index_from_lines([(name, token_melodies(toks)) for name, toks in pieces], manifest_sha256)


def build_index_from_lines(works: list[tuple[str, list[np.ndarray]]], manifest_sha256: str,
                           meta: dict | None = None) -> Index:
    """An index of works given as (name, interval arrays of each part's top line)."""
    seq, lengths, mel_owner = _concat([lines for _, lines in works])
    owner = np.repeat(mel_owner, lengths).astype(np.int32)
    return _finish(seq, owner, [n for n, _ in works], manifest_sha256, meta or {})


def _finish(seq: np.ndarray, owner: np.ndarray, names: list[str], sha: str, meta: dict) -> Index:
    codes = _codes(seq)
    valid = np.flatnonzero(codes >= 0)
    order = np.argsort(codes[valid], kind="stable")
    return Index(seq, owner, names, codes[valid][order], valid[order].astype(np.int64), sha, meta)


def save_index(index: Index, path: Path = DEFAULT_INDEX) -> None:
    """Compressed npz: int8 intervals, each melody's length and work, the work names."""
    ends = np.flatnonzero(index.seq == SENTINEL)
    lengths = np.diff(np.concatenate([[-1], ends])).astype(np.int32)
    mel_owner = index.owner[ends].astype(np.int32)
    np.savez_compressed(path, seq=index.seq.astype(np.int8), melody_lengths=lengths, melody_owner=mel_owner,
                        names=np.array(index.names), manifest_sha256=np.array(index.manifest_sha256),
                        meta=np.array(json.dumps(index.meta, sort_keys=True)))


@functools.lru_cache(maxsize=4)
def load_index(path: str | Path = DEFAULT_INDEX) -> Index:
    """Load (and cache per process) the shipped index."""
    z = np.load(Path(path))
    seq = z["seq"].astype(np.int64)
    if "melody_lengths" in z.files:
        owner = np.repeat(z["melody_owner"], z["melody_lengths"]).astype(np.int32)
    else:  # indexes written before known works stored an owner per position
        owner = z["owner"]
    meta = json.loads(str(z["meta"])) if "meta" in z.files else {}
    return _finish(seq, owner, [str(x) for x in z["names"]], str(z["manifest_sha256"]), meta)


@dataclass(frozen=True)
class Match:
    intervals: int  # the longest run of matching intervals
    pos: int  # where in ``Index.seq`` it starts (-1: none)
    whole: int = 0  # the longest known line matched from its first interval to its last
    whole_pos: int = -1


def find_matches(query: np.ndarray, index: Index) -> Match:
    """The longest run of consecutive intervals ``query`` shares with the index, and the longest
    known line it contains whole.

    ``query`` may hold several melodies separated by ``QUERY_SEP``. Only left-maximal hits are
    extended (a hit whose previous intervals also match lies inside a longer one)."""
    query = np.asarray(query, dtype=np.int64)
    qc = _codes(query)
    if len(qc) == 0:
        return Match(0, -1)
    lo = np.searchsorted(index.sorted_codes, qc, side="left")
    hi = np.searchsorted(index.sorted_codes, qc, side="right")
    counts = hi - lo
    counts[qc < 0] = 0
    total = int(counts.sum())
    if total == 0:
        return Match(0, -1)
    seq = index.seq
    qi = np.repeat(np.arange(len(qc)), counts)
    offs = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    cj = index.sorted_pos[np.repeat(lo, counts) + offs]
    left = (qi > 0) & (cj > 0)
    inner = np.zeros(total, dtype=bool)
    inner[left] = query[qi[left] - 1] == seq[cj[left] - 1]
    alive_q, alive_c = qi[~inner], cj[~inner]
    at_start = (alive_c == 0) | (seq[np.maximum(alive_c - 1, 0)] == SENTINEL)
    best_len, best_j = K, int(alive_c[0])
    whole, whole_j = 0, -1
    length = K
    n_q, n_c = len(query), len(seq)
    while len(alive_q):
        best_len, best_j = length, int(alive_c[0])
        nq, nc = alive_q + length, alive_c + length
        ok = (nq < n_q) & (nc < n_c)
        same = np.zeros(len(nq), dtype=bool)
        same[ok] = query[nq[ok]] == seq[nc[ok]]
        ended = ~same & at_start & (nc < n_c)
        if ended.any():
            line_end = ended.copy()
            line_end[ended] = seq[nc[ended]] == SENTINEL  # the known line ended with the match
            if line_end.any():
                whole, whole_j = length, int(alive_c[line_end][0])
        alive_q, alive_c, at_start = alive_q[same], alive_c[same], at_start[same]
        length += 1
    return Match(best_len, best_j, whole, whole_j)


def longest_match(query: np.ndarray, index: Index) -> tuple[int, int]:
    """(longest run of matching intervals, index position where it starts or -1)."""
    m = find_matches(query, index)
    return m.intervals, m.pos


def query_of(pm_or_notes) -> np.ndarray:
    """All of a piece's melodies as one query (``QUERY_SEP`` between them)."""
    mels = melodies(pm_or_notes)
    if not mels:
        return np.zeros(0, dtype=np.int64)
    out = []
    for m in mels:
        out += [m, np.array([QUERY_SEP])]
    return np.concatenate(out[:-1]).astype(np.int64)


def check_originality(pm_or_notes, index: Index | None = None) -> dict:
    """``{"longest_match_notes", "longest_match_intervals", "nearest_piece", "verdict"}``."""
    index = index or load_index()
    m = find_matches(query_of(pm_or_notes), index)
    long_run = m.intervals >= TOO_CLOSE_INTERVALS
    whole = m.whole >= WHOLE_LINE_INTERVALS
    pos = m.whole_pos if whole and not long_run else m.pos
    return {
        "longest_match_notes": m.intervals + 1 if m.intervals else 0,
        "longest_match_intervals": m.intervals,
        "whole_known_line_intervals": m.whole,
        "nearest_piece": index.names[int(index.owner[pos])] if pos >= 0 else None,
        "verdict": "too_close" if long_run or whole else "original",
    }


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def build_known_works(path: Path = DEFAULT_INDEX, manifest_path: Path = DEFAULT_INDEX_MANIFEST, *,
                      workers: int = 2, progress: bool = True) -> dict:
    """Read every known work from music21's corpus, write the index and its manifest."""
    from generation.model.corpus import DEFAULT_MANIFEST
    from generation.model.known_works import read_works

    t0 = time.time()
    works, manifest = read_works(workers, progress=progress)
    return write_known_works(works, manifest, path, manifest_path, training_manifest=DEFAULT_MANIFEST,
                             seconds=time.time() - t0)


def write_known_works(works: list[dict], manifest: dict, path: Path, manifest_path: Path, *,
                      training_manifest: Path, seconds: float = 0.0) -> dict:
    manifest = dict(manifest, index_file=Path(path).name,
                    build_command="python -m generation.model.originality --build",
                    training_manifest_sha256=file_sha256(training_manifest))
    data = json.dumps(manifest, indent=0, sort_keys=True, ensure_ascii=False).encode() + b"\n"
    Path(manifest_path).write_bytes(data)
    meta = {"music21_version": manifest["music21_version"], "works_manifest_sha256": hashlib.sha256(data).hexdigest(),
            "works": len(works)}
    index = build_index_from_lines([(w["id"], w["lines"]) for w in works], file_sha256(training_manifest), meta)
    save_index(index, path)
    return {"index": str(path), "bytes": Path(path).stat().st_size, "works": len(works),
            "intervals": int(len(index.seq) - len(np.flatnonzero(index.seq == SENTINEL))),
            "collections": {k: v["works"] for k, v in manifest["collections"].items()},
            "music21_version": manifest["music21_version"], "manifest": str(manifest_path),
            "seconds": round(seconds, 1)}


FRESH_FAMILIES = ("piano", "strings", "pipe", "reed", "organ", "guitar", "brass", "ensemble")


def fresh_requests(n: int, seed: int = 0) -> list:
    """Requests spread over what a listener can ask: key, mode, metre, tempo, length, one family
    (one part) or two (four parts), density and register."""
    from generation.model.conditioning import Conditioning
    from generation.model.vocab import TIME_SIGNATURES

    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        fams = tuple(rng.choice(FRESH_FAMILIES, size=int(rng.integers(1, 3)), replace=False).tolist())
        out.append(Conditioning(
            tempo_bpm=round(float(np.exp(rng.uniform(np.log(60), np.log(200)))), 1),
            key_tonic=int(rng.integers(0, 12)), mode=("major", "minor")[int(rng.integers(0, 2))],
            time_signature=str(rng.choice(TIME_SIGNATURES)), density=round(float(rng.uniform(1.0, 4.0)), 2),
            register=round(float(rng.uniform(55, 74)), 1), polyphony=1.0 if len(fams) == 1 else 4.0,
            length_bars=int(rng.integers(8, 25)), families=fams).validate())
    return out


def fresh_pieces(n_requests: int, *, seed: int = 0, n_candidates: int = 6, bundle=None) -> list:
    """Every candidate compose makes for ``n_requests`` requests, before any originality check
    (``n_requests * n_candidates`` new pieces of the shipped model, as the publisher's sampler
    makes them: plan, transposition, production sampling parameters)."""
    from generation.model.compose import compose, load_bundle

    bundle = bundle or load_bundle()
    pieces = []
    for i, cond in enumerate(fresh_requests(n_requests, seed)):
        comp = compose(bundle, cond, seed=seed * 1000 + i, n_candidates=n_candidates, check_originality=False)
        pieces += comp.candidate_midi
    return pieces


def false_alarm_report(pieces: list, index: Index | None = None) -> dict:
    """How often new pieces are called too close, the distribution of their longest matches, and
    the p50/p95 time of one lookup."""
    index = index or load_index()
    runs, wholes, seconds, nearest = [], [], [], {}
    for pm in pieces:
        t0 = time.perf_counter()
        r = check_originality(pm, index)
        seconds.append(time.perf_counter() - t0)
        runs.append(r["longest_match_intervals"])
        wholes.append(r["whole_known_line_intervals"])
        if r["verdict"] == "too_close":
            nearest[r["nearest_piece"]] = nearest.get(r["nearest_piece"], 0) + 1
    runs_a, wholes_a = np.asarray(runs), np.asarray(wholes)
    flagged = (runs_a >= TOO_CLOSE_INTERVALS) | (wholes_a >= WHOLE_LINE_INTERVALS)
    histogram = lambda a: {str(k): int(v) for k, v in zip(*np.unique(a, return_counts=True), strict=True)}  # noqa: E731
    return {
        "pieces": len(pieces), "too_close_intervals": TOO_CLOSE_INTERVALS,
        "whole_line_intervals": WHOLE_LINE_INTERVALS,
        "false_alarms": int(flagged.sum()), "false_alarm_rate": round(float(flagged.mean()), 4),
        "longest_match_intervals": histogram(runs_a),
        "whole_known_line_intervals": histogram(wholes_a),
        "rate_at_threshold": {str(t): round(float((runs_a >= t).mean()), 4) for t in range(8, 25)},
        "whole_line_rate_at": {str(t): round(float((wholes_a >= t).mean()), 4) for t in range(6, 19)},
        "flagged_nearest": nearest,
        "lookup_ms": {"p50": round(1000 * float(np.median(seconds)), 2),
                      "p95": round(1000 * float(np.percentile(seconds, 95)), 2)},
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("midi", nargs="?")
    ap.add_argument("--build", action="store_true", help="rebuild the index from music21's corpus")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--false-alarms", type=int, metavar="REQUESTS",
                    help="compose REQUESTS requests (6 candidates each) and report the false alarms")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    if a.build:
        print(json.dumps(build_known_works(workers=a.workers)))
    if a.false_alarms:
        print(json.dumps(false_alarm_report(fresh_pieces(a.false_alarms, seed=a.seed))))
    if a.midi:
        print(json.dumps(check_originality(pretty_midi.PrettyMIDI(a.midi))))


if __name__ == "__main__":
    main()
