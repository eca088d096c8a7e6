"""Originality: the longest transposition-invariant melodic match against the training corpus.

Each part's melody (highest note per onset) becomes a sequence of semitone intervals. The index
holds every corpus melody's intervals and a sorted table of all interval 5-grams; a query looks
up its 5-grams and extends every hit forward (vectorised), giving the longest run of consecutive
matching intervals with any corpus piece. ``too_close`` when that run is >= 12 intervals
(13 notes). The index ships as ``generation/checkpoints/originality-index.npz`` and is rebuilt
from the corpus with ``python -m generation.model.originality --build``.
"""

from __future__ import annotations

import argparse
import functools
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from generation.midi_lib import pretty_midi
from generation.model.vocab import tokens_to_piece

REPO = Path(__file__).resolve().parents[2]
DEFAULT_INDEX = REPO / "generation" / "checkpoints" / "originality-index.npz"
TOO_CLOSE_INTERVALS = 12
K = 5
SENTINEL = 127  # separates melodies; never equals an interval (clipped to +-60)
BASE = 256


def melodies_from_notes(notes_by_part: list[list[tuple[float, int]]]) -> list[np.ndarray]:
    """(onset, pitch) lists per part -> interval arrays of each part's top-line melody."""
    out = []
    for notes in notes_by_part:
        top: dict[float, int] = {}
        for t, p in notes:
            k = round(t, 4)
            top[k] = max(top.get(k, -1), p)
        seq = np.array([top[t] for t in sorted(top)], dtype=np.int64)
        if len(seq) >= 2:
            out.append(np.clip(np.diff(seq), -60, 60))
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
    """K-gram codes for every start position (int64); windows crossing a sentinel are -1."""
    n = len(seq) - K + 1
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    code = np.zeros(n, dtype=np.int64)
    bad = np.zeros(n, dtype=bool)
    for m in range(K):
        w = seq[m:m + n]
        code = code * BASE + (w + 64)
        bad |= w == SENTINEL
    code[bad] = -1
    return code


@dataclass
class Index:
    seq: np.ndarray  # all melodies' intervals, SENTINEL between melodies
    owner: np.ndarray  # piece index of each position
    names: list[str]
    sorted_codes: np.ndarray
    sorted_pos: np.ndarray
    manifest_sha256: str


def build_index(pieces: list[tuple[str, list[int]]], manifest_sha256: str) -> Index:
    seqs, owners = [], []
    for i, (_, toks) in enumerate(pieces):
        for mel in token_melodies(toks):
            seqs += [mel, np.array([SENTINEL])]
            owners += [np.full(len(mel) + 1, i)]
    seq = np.concatenate(seqs).astype(np.int64)
    owner = np.concatenate(owners).astype(np.int32)
    return _finish(seq, owner, [n for n, _ in pieces], manifest_sha256)


def _finish(seq: np.ndarray, owner: np.ndarray, names: list[str], sha: str) -> Index:
    codes = _codes(seq)
    valid = np.flatnonzero(codes >= 0)
    order = np.argsort(codes[valid], kind="stable")
    return Index(seq, owner, names, codes[valid][order], valid[order].astype(np.int64), sha)


def save_index(index: Index, path: Path = DEFAULT_INDEX) -> None:
    np.savez_compressed(path, seq=index.seq.astype(np.int8), owner=index.owner,
                        names=np.array(index.names), manifest_sha256=np.array(index.manifest_sha256))


@functools.lru_cache(maxsize=4)
def load_index(path: str | Path = DEFAULT_INDEX) -> Index:
    """Load (and cache per process) the shipped index."""
    z = np.load(Path(path))
    return _finish(z["seq"].astype(np.int64), z["owner"], [str(x) for x in z["names"]],
                   str(z["manifest_sha256"]))


def longest_match(query: np.ndarray, index: Index) -> tuple[int, int]:
    """(longest run of matching intervals, corpus piece index or -1)."""
    qc = _codes(query)
    if len(qc) == 0:
        return 0, -1
    lo = np.searchsorted(index.sorted_codes, qc, side="left")
    hi = np.searchsorted(index.sorted_codes, qc, side="right")
    counts = hi - lo
    if counts.sum() == 0:
        return 0, -1
    qi = np.repeat(np.arange(len(qc)), counts)
    starts = np.repeat(lo, counts)
    offs = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    cj = index.sorted_pos[starts + offs]
    best_len, best_j = K, int(cj[0])
    length = K
    alive_q, alive_c = qi, cj
    while len(alive_q):
        best_len, best_j = length, int(alive_c[0])
        nq, nc = alive_q + length, alive_c + length
        ok = (nq < len(query)) & (nc < len(index.seq))
        nq, nc, aq, ac = nq[ok], nc[ok], alive_q[ok], alive_c[ok]
        same = query[nq] == index.seq[nc]
        alive_q, alive_c = aq[same], ac[same]
        length += 1
    return best_len, int(index.owner[best_j])


def check_originality(pm_or_notes, index: Index | None = None) -> dict:
    """``{"longest_match_notes", "longest_match_intervals", "nearest_piece", "verdict"}``."""
    index = index or load_index()
    best, owner = 0, -1
    for mel in melodies(pm_or_notes):
        n, o = longest_match(mel, index)
        if n > best:
            best, owner = n, o
    return {
        "longest_match_notes": best + 1 if best else 0,
        "longest_match_intervals": best,
        "nearest_piece": index.names[owner] if owner >= 0 else None,
        "verdict": "too_close" if best >= TOO_CLOSE_INTERVALS else "original",
    }


def build_from_corpus(path: Path = DEFAULT_INDEX) -> dict:
    from generation.model.corpus import DEFAULT_MANIFEST, DEFAULT_OUT, file_sha256, load_corpus

    data = load_corpus(DEFAULT_OUT)
    manifest = json.loads(Path(DEFAULT_MANIFEST).read_text())
    ids = [p["id"] for p in manifest["pieces"]]
    toks, offs = data["tokens"], data["offsets"]
    pieces = [(ids[i], toks[offs[i]:offs[i + 1]].tolist()) for i in range(len(ids))]
    index = build_index(pieces, file_sha256(DEFAULT_MANIFEST))
    save_index(index, path)
    return {"index": str(path), "pieces": len(ids), "intervals": int(len(index.seq)),
            "bytes": Path(path).stat().st_size}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("midi", nargs="?")
    ap.add_argument("--build", action="store_true")
    a = ap.parse_args(argv)
    if a.build:
        print(json.dumps(build_from_corpus()))
    if a.midi:
        print(json.dumps(check_originality(pretty_midi.PrettyMIDI(a.midi))))


if __name__ == "__main__":
    main()
