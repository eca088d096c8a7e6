"""Tracks for review tests whose files really exist in storage (audio, MIDI, pictures), and reviewers.

``stored_track`` writes a short real recording (FLAC and AAC in M4A, encoded by ffmpeg), the
composed and arranged MIDI and, on request, the piano roll and waveform pictures, through
``generation.objects`` into whatever storage the test configured (the S3 API on loopback or a
local folder), and the rows publishing writes. ``copy_of`` makes its melody follow a corpus piece
so the originality evidence has a passage to show.
"""

from __future__ import annotations

import subprocess
import tempfile
import uuid
from pathlib import Path

import numpy as np
import pretty_midi
from django.contrib.auth.models import Group
from django.utils import timezone

from generation import objects, pipeline
from generation.models import Licence, LicenceScope, Provenance, Rendition, Track, TrackStatus
from tests.factories import UserFactory, job_for

RATE = 44100
PASSWORD = "correct horse battery staple"


REVIEWER_MIGRATIONS = (("0004_reviewer_group", "group_create"), ("0006_reviewer_reads_reports", "reports_grant"))


def reviewer_group() -> Group:
    """The group the data migrations made. A transactional test starts from a flushed database
    (no migration data), so there the same migration functions run again on the historical models."""
    group = Group.objects.filter(name="reviewer").first()
    if group is not None:
        return group
    import importlib
    from types import SimpleNamespace

    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    state = MigrationExecutor(connection).loader.project_state(("generation", REVIEWER_MIGRATIONS[-1][0]))
    for module, function in REVIEWER_MIGRATIONS:
        getattr(importlib.import_module(f"generation.migrations.{module}"), function)(
            state.apps, SimpleNamespace(connection=connection))
    return Group.objects.get(name="reviewer")


def reviewer(email: str = "rita@example.com"):
    user = UserFactory(email=email, is_staff=True)
    user.groups.add(reviewer_group())
    return user


def melody(seed: int, *, copy_of: tuple[str, int] | None = None) -> pretty_midi.PrettyMIDI:
    """A one-part tune at 120 BPM in 4/4; with ``copy_of=(piece, notes)`` its middle follows that corpus piece."""
    from generation.evidence.passage import piece_melodies
    from generation.model.originality import load_index

    rng = np.random.default_rng(seed)
    pitches = [int(p) for p in 62 + rng.integers(-4, 5, size=8)]
    if copy_of is not None:
        index = load_index()
        intervals = piece_melodies(index.seq, index.owner, index.names.index(copy_of[0]))[0][: copy_of[1] - 1]
        for step in intervals:
            pitches.append(pitches[-1] + int(step))
    pitches += [int(p) for p in pitches[-1] + rng.choice([-7, -3, 4, 9], size=6)]  # leaps the corpus rarely has
    midi = pretty_midi.PrettyMIDI(initial_tempo=120)
    piano = pretty_midi.Instrument(program=0, name="Piano")
    for i, pitch in enumerate(pitches):
        piano.notes.append(pretty_midi.Note(velocity=80, pitch=max(30, min(100, pitch)), start=i * 0.5,
                                            end=i * 0.5 + 0.45))
    midi.instruments.append(piano)
    return midi


def with_bass(midi: pretty_midi.PrettyMIDI) -> pretty_midi.PrettyMIDI:
    """The arrangement: the tune and a bass on every other beat."""
    arranged = pretty_midi.PrettyMIDI(initial_tempo=120)
    arranged.instruments.append(midi.instruments[0])
    bass = pretty_midi.Instrument(program=32, name="Bass")
    bass.notes = [pretty_midi.Note(velocity=70, pitch=n.pitch - 24, start=n.start, end=n.end + 0.4)
                  for n in midi.instruments[0].notes[::2]]
    arranged.instruments.append(bass)
    return arranged


def recording(midi: pretty_midi.PrettyMIDI, *, gain_db: float = -14.0) -> np.ndarray:
    """The tune as soft sine tones, stereo float32 (channels, samples)."""
    seconds = midi.get_end_time() + 0.5
    t = np.arange(int(seconds * RATE)) / RATE
    mono = np.zeros_like(t)
    for note in midi.instruments[0].notes:
        on = (t >= note.start) & (t < note.end)
        envelope = np.minimum(1, (t[on] - note.start) * 40) * np.exp(-(t[on] - note.start) * 3)
        mono[on] += envelope * np.sin(2 * np.pi * pretty_midi.note_number_to_hz(note.pitch) * t[on])
    mono *= 10 ** (gain_db / 20) / max(1e-9, np.sqrt(np.mean(mono**2)))
    return np.stack([mono, mono * 0.9]).astype(np.float32)


def m4a(flac: bytes) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        src, dst = Path(folder) / "in.flac", Path(folder) / "out.m4a"
        src.write_bytes(flac)
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(src), "-c:a", "aac", "-b:a", "128k",
                        str(dst)], check=True)
        return dst.read_bytes()


def stored_track(owner=None, *, status: str = TrackStatus.IN_REVIEW, seed: int = 0, title: str | None = None,
                 style: str = "piano", mood: str = "calm", copy_of: tuple[str, int] | None = None,
                 pictures: bool = False, gates: dict | None = None) -> Track:
    owner = owner or UserFactory()
    midi = melody(seed, copy_of=copy_of)
    midi_bytes = pipeline.midi_to_bytes(midi)
    flac = pipeline.audio_to_flac(recording(midi))
    meta = {"provenance-id": str(uuid.uuid4())}
    composed = objects.put_object(midi_bytes, prefix="midi", extension="mid", content_type="audio/midi", metadata=meta)
    arranged = objects.put_object(pipeline.midi_to_bytes(with_bass(midi)), prefix="midi", extension="mid",
                                  content_type="audio/midi", metadata=meta)
    files = [("flac", "flac", "audio/flac", None, objects.put_object(flac, prefix="tracks", extension="flac",
                                                                    content_type="audio/flac", metadata=meta)),
             ("aac-128", "aac", "audio/mp4", 128, objects.put_object(m4a(flac), prefix="tracks", extension="m4a",
                                                                   content_type="audio/mp4", metadata=meta))]
    roll = wave = ""
    if pictures:
        from generation.audio.pictures import piano_roll_png, waveform_png

        audio = recording(midi)
        roll = objects.put_object(piano_roll_png(midi, width=8, height=3), prefix="images", extension="png",
                                  content_type="image/png", metadata=meta).key
        wave = objects.put_object(waveform_png(audio, RATE, width=8, height=3), prefix="images", extension="png",
                                  content_type="image/png", metadata=meta).key
    from generation.model.originality import check_originality

    originality = check_originality(midi)
    job = job_for(owner, status="published", work={"composition": {"midi_key": composed.key},
                                                   "request": {"style": style, "mood": mood}})
    track = Track.objects.create(
        owner=owner, job=job, title=title or f"{mood.title()} {style} no. {seed}", style=style,
        duration_s=midi.get_end_time() + 0.5, status=status, midi_key=arranged.key, midi_sha256=arranged.sha256,
        piano_roll_key=roll, waveform_key=wave,
        measured={"tempo": 119.6, "key_tonic": 2, "mode": "major", "time_signature": "4/4", "density": 2.0,
                  "length_bars": 8, "families": ["piano"], "polyphony": 1.0},
    )
    for fmt, codec, mime, kbps, stored in files:
        Rendition.objects.create(track=track, format=fmt, codec=codec, mime_type=mime, bitrate_kbps=kbps,
                                 key=stored.key, sha256=stored.sha256, size=stored.size, duration_s=track.duration_s)
        objects.put_at_key(stored.key + ".c2pa.json", b"{}", content_type="application/json", metadata=meta)
    record = {
        "track_id": str(track.id), "job_id": str(job.id),
        "model": {"name": "cadenza-test", "version": "0", "checkpoint_sha256": "0" * 64},
        "seed": seed, "request": {"style": style, "mood": mood},
        "attributes": {"requested": {"tempo_bpm": 120, "key_tonic": 2, "mode": "major", "time_signature": "4/4",
                                     "density": 2.0, "length_bars": 8, "families": ["piano"]}},
        "master": {"lufs": -14.0, "true_peak_dbtp": -1.2},
        "gates": gates if gates is not None else {"passed": True, "measurements": {"lufs": -14.02,
                                                                                    "true_peak_dbtp": -1.4}},
        "originality": originality,
        "renditions": [{"format": fmt, "key": stored.key, "sha256": stored.sha256} for fmt, *_, stored in files],
    }
    Provenance.objects.create(track=track, record=record, record_sha256="0" * 64,
                              storage_key=f"provenance/{uuid.uuid4()}.json")
    Licence.objects.create(track=track, licensee=owner, licensee_ref=owner.public_id,
                           licence_id="LicenseRef-Cadenza-Personal-1.0", scope=LicenceScope.PERSONAL,
                           commercial_use=False, attribution="Cadenza", certificate={}, granted_at=timezone.now())
    return track


def keys_of(track: Track) -> list[str]:
    """Every stored key of a track (renditions, sidecars, MIDI, pictures)."""
    keys = [r.key for r in track.renditions.all()]
    keys += [k + ".c2pa.json" for k in keys]
    keys += [track.midi_key, track.job.work["composition"]["midi_key"], track.piano_roll_key, track.waveform_key]
    return [k for k in keys if k]
