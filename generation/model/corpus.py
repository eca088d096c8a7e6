"""Training corpus from music21's bundled corpus, with provenance and licence terms per piece.

``build_corpus(out_dir)`` parses the included collections, quantises each piece to the token
grid, labels it with ``attributes.measure`` (as a ``cond-v1`` vector), splits by piece and writes

* ``<out_dir>/tokens.npz``: concatenated tokens, per-piece offsets and condition vectors;
* ``<manifest_path>``: JSON with every piece's collection, composer, source path, terms,
  sha256 of its tokens and split; ``sha256(manifest bytes)`` is the corpus identity.

Pieces that fail (parse error, unsupported metre, more than four parts, no notes, ...) are
skipped with a logged reason. Run: ``python -m generation.model.corpus``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import multiprocessing as mp
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from generation.model.attributes import measure
from generation.model.conditioning import Conditioning
from generation.model.vocab import (
    MAX_PARTS,
    TICKS_PER_QUARTER,
    TIME_SIGNATURES,
    VOCAB_VERSION,
    GridNote,
    Piece,
    bar_ticks,
    piece_to_midi,
    piece_to_tokens,
    tempo_bin,
    vel_bucket,
)

log = logging.getLogger("cadenza.corpus")

REPO = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO / "var" / "corpus"
DEFAULT_MANIFEST = REPO / "generation" / "checkpoints" / "corpus-manifest.json"
GENERAL_TERMS = "music21/corpus/license.txt"
ESSEN_TERMS = "music21/corpus/essenFolksong/license.txt"


@dataclass(frozen=True)
class Collection:
    name: str
    title: str
    composer: str
    family: str  # GM family the melody is written for
    composition_public_domain: bool
    composition_note: str
    encoding_terms: str
    terms_source: str
    commercial_use: bool
    default_tempo: float | None = None  # quarter BPM when the file has none


COLLECTIONS: dict[str, Collection] = {
    c.name: c
    for c in (
        Collection(
            "bach_chorales", "J.S. Bach, four-part chorales (music21 bach/*)", "J.S. Bach",
            "ensemble", True, "Bach died 1750; public domain",
            "distributed with the encoders' permission; general music21 corpus terms; no "
            "non-commercial restriction found for this collection",
            GENERAL_TERMS, True, 80.0),
        Collection(
            "oneills1850", "O'Neill's Music of Ireland: 1850 Melodies (1903)", "traditional",
            "strings", True, "traditional Irish tunes, collection published 1903; public domain",
            "ABC transcriptions by volunteers named in Z: lines; general music21 corpus terms; "
            "no non-commercial restriction found",
            GENERAL_TERMS, True),
        Collection(
            "ryansMammoth", "Ryan's Mammoth Collection (1883)", "traditional",
            "strings", True, "fiddle tunes published 1883; public domain",
            "ABC transcriptions contributed by volunteers (Z: lines); general music21 corpus "
            "terms; no non-commercial restriction found",
            GENERAL_TERMS, True),
        Collection(
            "airdsAirs", "Aird's Selection of Scotch, English, Irish and Foreign Airs (1778-1803)",
            "traditional", "pipe", True, "airs published 1778-1803; public domain",
            "ABC transcriptions by Jack Campin (Z: lines); general music21 corpus terms; no "
            "non-commercial restriction found",
            GENERAL_TERMS, True),
        Collection(
            "essenFolksong", "Essen Folksong Collection (EsAC, ABC by Seymour Schlien)",
            "traditional", "pipe", True, "traditional folk songs",
            "legal status unclear; permission for NON-COMMERCIAL distribution and use only",
            ESSEN_TERMS, False),
    )
}
DEFAULT_COLLECTIONS = ("bach_chorales", "oneills1850", "ryansMammoth", "airdsAirs")

DEFAULT_TEMPO_BY_TS = {
    "2/4": 120.0, "3/4": 140.0, "4/4": 180.0, "2/2": 200.0, "3/8": 150.0, "6/8": 180.0,
    "9/8": 180.0, "12/8": 180.0, "6/4": 160.0, "3/2": 160.0,
}


def _corpus_root() -> Path:
    import music21

    return Path(music21.__file__).parent / "corpus"


def list_sources(collection: str) -> list[str]:
    """Source paths (relative to music21's corpus directory) of a collection."""
    root = _corpus_root()
    if collection == "bach_chorales":
        from music21 import corpus

        names = corpus.chorales.Iterator(returnType="filename")
        out = []
        for n in names:
            hits = sorted(root.glob(f"{n}.*"))
            if hits:
                out.append(str(hits[0].relative_to(root)))
        return sorted(set(out))
    d = root / collection
    return sorted(str(p.relative_to(root)) for p in d.rglob("*.abc"))


def score_to_piece(score, collection: Collection) -> Piece:
    """Quantise a music21 Score to a ``Piece`` (notated repeats are not expanded)."""
    from music21 import meter, stream, tempo

    parts = list(score.parts) if hasattr(score, "parts") else [score]
    if not 1 <= len(parts) <= MAX_PARTS:
        raise ValueError(f"{len(parts)} parts (max {MAX_PARTS})")
    tss = list(score.recurse().getElementsByClass(meter.TimeSignature))
    if not tss:
        raise ValueError("no time signature")
    ts = tss[0].ratioString
    if ts == "4/4" and tss[0].symbol in ("cut",):
        ts = "2/2"
    if ts not in TIME_SIGNATURES:
        raise ValueError(f"unsupported time signature {ts}")
    if len({t.ratioString for t in tss}) > 1:
        raise ValueError("time signature changes")
    marks = list(score.recurse().getElementsByClass(tempo.MetronomeMark))
    bpm = None
    if marks and marks[0].number is not None:
        bpm = marks[0].getQuarterBPM()
    if not bpm:
        bpm = collection.default_tempo or DEFAULT_TEMPO_BY_TS[ts]
    blen_q = Fraction(bar_ticks(ts), TICKS_PER_QUARTER)
    measures = list(parts[0].getElementsByClass(stream.Measure))
    shift = Fraction(0)
    if len(measures) > 1:
        shift = (-Fraction(measures[1].offset)) % blen_q
    notes: list[GridNote] = []
    for i, part in enumerate(parts):
        for el in part.flatten().stripTies().notes:
            q = Fraction(el.quarterLength)
            if q <= 0:
                continue  # grace notes
            start = round((Fraction(el.offset) + shift) * TICKS_PER_QUARTER)
            dur = max(round(q * TICKS_PER_QUARTER), 1)
            vel = el.volume.velocity if el.volume.velocity is not None else 80
            for p in el.pitches:
                if 0 <= p.midi <= 127:
                    notes.append(GridNote(start, i, vel_bucket(vel), p.midi, dur))
    if len(notes) < 8:
        raise ValueError(f"only {len(notes)} notes")
    return Piece(ts, tempo_bin(bpm), (collection.family,) * len(parts), notes).canonical()


def piece_label(piece: Piece) -> list[float]:
    """The ``cond-v1`` vector measured from a piece (what the model is trained to follow)."""
    a = measure(piece_to_midi(piece))
    fams = tuple(sorted(set(piece.families)))
    cond = Conditioning(
        tempo_bpm=a.tempo, key_tonic=a.key_tonic, mode=a.mode, time_signature=a.time_signature,
        density=a.density, register=a.pitch_mean, polyphony=a.polyphony,
        length_bars=a.length_bars, families=fams,
    )
    return cond.to_vector()


def split_of(piece_id: str) -> str:
    h = int(hashlib.sha256(piece_id.encode()).hexdigest()[:8], 16) % 100
    return "train" if h < 90 else ("valid" if h < 95 else "test")


def _process_source(args: tuple[str, str]) -> list[dict]:
    """Parse one source file (a chorale or an ABC book) into piece records."""
    collection_name, rel = args
    from music21 import converter, stream

    coll = COLLECTIONS[collection_name]
    out: list[dict] = []
    try:
        obj = converter.parse(str(_corpus_root() / rel))
    except Exception as e:  # noqa: BLE001 - any parser failure skips the file
        return [{"skip": True, "source": rel, "collection": collection_name,
                 "reason": f"parse failed: {type(e).__name__}: {e}"[:200]}]
    scores = list(obj.scores) if isinstance(obj, stream.Opus) else [obj]
    for k, sc in enumerate(scores):
        md = sc.metadata
        number = (md.number if md is not None and md.number else None) or str(k + 1)
        pid = f"{collection_name}/{rel.split('/')[-1]}#{number}"
        title = (md.title if md is not None and md.title else None) or rel.split("/")[-1]
        try:
            piece = score_to_piece(sc, coll)
            tokens = piece_to_tokens(piece)
            label = piece_label(piece)
        except Exception as e:  # noqa: BLE001 - skip with the reason, never abort
            out.append({"skip": True, "source": rel, "collection": collection_name, "id": pid,
                        "reason": f"{type(e).__name__}: {e}"[:200]})
            continue
        out.append({
            "id": pid, "collection": collection_name, "title": str(title),
            "composer": coll.composer, "source": f"music21/corpus/{rel}", "number": str(number),
            "composition_public_domain": coll.composition_public_domain,
            "terms_source": coll.terms_source, "commercial_use": coll.commercial_use,
            "tokens": tokens, "label": label,
        })
    return out


def build_corpus(
    out_dir: Path = DEFAULT_OUT,
    manifest_path: Path = DEFAULT_MANIFEST,
    collections: tuple[str, ...] = DEFAULT_COLLECTIONS,
    *,
    workers: int = 2,
    limit: int | None = None,
    progress: bool = True,
) -> dict:
    """Build the corpus; return a summary (counts, skips, manifest sha256)."""
    import music21

    t0 = time.time()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    jobs = [(c, rel) for c in collections for rel in list_sources(c)]
    if limit:
        jobs = jobs[:limit]
    records: list[dict] = []
    with mp.get_context("fork").Pool(workers) as pool:
        it = pool.imap(_process_source, jobs, chunksize=1)
        if progress:
            from tqdm import tqdm

            it = tqdm(it, total=len(jobs), desc="build_corpus", unit="file")
        for recs in it:
            records.extend(recs)
    skipped = [r for r in records if r.get("skip")]
    for r in skipped:
        log.warning("skipped %s: %s", r.get("id", r["source"]), r["reason"])
    pieces, seen = [], {}
    for r in records:
        if r.get("skip"):
            continue
        sha = hashlib.sha256(np.asarray(r["tokens"], dtype=np.int16).tobytes()).hexdigest()
        if sha in seen:
            skipped.append({"id": r["id"], "source": r["source"], "collection": r["collection"],
                            "reason": f"duplicate of {seen[sha]}"})
            continue
        seen[sha] = r["id"]
        r["tokens_sha256"] = sha
        r["split"] = split_of(r["id"])
        pieces.append(r)
    pieces.sort(key=lambda r: r["id"])
    offsets = np.cumsum([0] + [len(r["tokens"]) for r in pieces]).astype(np.int64)
    np.savez_compressed(
        out_dir / "tokens.npz",
        tokens=np.concatenate([np.asarray(r["tokens"], dtype=np.int16) for r in pieces]),
        offsets=offsets,
        labels=np.asarray([r["label"] for r in pieces], dtype=np.float32),
        split=np.asarray([{"train": 0, "valid": 1, "test": 2}[r["split"]] for r in pieces]),
    )
    manifest = {
        "format": "cadenza-corpus-manifest-v1",
        "vocab_version": VOCAB_VERSION,
        "music21_version": music21.__version__,
        "policy": "trains only on collections with no non-commercial restriction found",
        "augmentation": "transposition -5..+6 semitones, train split only, at training time",
        "split_rule": "sha256(piece id) mod 100: <90 train, <95 valid, else test",
        "collections": {
            name: {
                "title": c.title, "composer": c.composer,
                "composition_public_domain": c.composition_public_domain,
                "composition_note": c.composition_note, "encoding_terms": c.encoding_terms,
                "terms_source": c.terms_source, "commercial_use": c.commercial_use,
                "included": name in collections,
                "pieces": sum(1 for r in pieces if r["collection"] == name),
            }
            for name, c in COLLECTIONS.items()
        },
        "pieces": [
            {k: r[k] for k in ("id", "collection", "title", "composer", "source", "number",
                               "composition_public_domain", "terms_source", "commercial_use",
                               "tokens_sha256", "split")}
            | {"n_tokens": len(r["tokens"])}
            for r in pieces
        ],
        "skipped": sorted(
            ({"id": r.get("id", r["source"]), "reason": r["reason"]} for r in skipped),
            key=lambda r: r["id"]),
    }
    manifest_path = Path(manifest_path)
    manifest_path.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=False).encode() + b"\n"
    manifest_path.write_bytes(data)
    sha = hashlib.sha256(data).hexdigest()
    (out_dir / "manifest.sha256").write_text(sha + "\n")
    splits = {s: sum(1 for r in pieces if r["split"] == s) for s in ("train", "valid", "test")}
    return {
        "pieces": len(pieces), "skipped": len(skipped), "splits": splits,
        "tokens": int(offsets[-1]), "manifest": str(manifest_path), "manifest_sha256": sha,
        "seconds": round(time.time() - t0, 1),
    }


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


class CorpusMissing(FileNotFoundError):
    """The prepared corpus is not on disk (it is built, not shipped)."""


def load_corpus(out_dir: Path = DEFAULT_OUT) -> dict[str, np.ndarray]:
    path = Path(out_dir) / "tokens.npz"
    if not path.exists():
        raise CorpusMissing(f"no prepared corpus at {path}: run `python manage.py build_corpus` "
                            "first (~3 min)")
    z = np.load(path)
    return {k: z[k] for k in z.files}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--manifest", type=Path, default=DEFAULT_MANIFEST)
    ap.add_argument("--collections", default=",".join(DEFAULT_COLLECTIONS))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--limit", type=int, default=None)
    a = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    print(json.dumps(build_corpus(a.out, a.manifest, tuple(a.collections.split(",")),
                                  workers=a.workers, limit=a.limit)))


if __name__ == "__main__":
    main()
