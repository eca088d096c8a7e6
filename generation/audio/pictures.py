"""Pictures for the admin review page: a piano roll and a waveform with short-term loudness.

matplotlib with the Agg backend (no display); each function returns PNG bytes.
"""

from __future__ import annotations

import io

import numpy as np

from generation.audio import loudness
from generation.midi_lib import pretty_midi

DPI = 100


def _figure(width: float, height: float, rows: int = 1, ratios=None):
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI)
    axes = fig.subplots(rows, 1, sharex=True, gridspec_kw={"height_ratios": ratios} if ratios else None)
    return fig, axes


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    return buf.getvalue()


def piano_roll_png(midi: pretty_midi.PrettyMIDI, *, width: float = 12.0, height: float = 5.0
                   ) -> bytes:  # fmt: skip
    """Notes as bars (time × pitch), one colour per instrument, drums as ticks along the bottom."""
    from matplotlib.collections import PolyCollection
    from matplotlib.patches import Patch

    fig, ax = _figure(width, height)
    cmap = __import__("matplotlib").colormaps["tab10"]
    handles = []
    pitched = [i for i in midi.instruments if not i.is_drum]
    lo = min((n.pitch for i in pitched for n in i.notes), default=36) - 2
    hi = max((n.pitch for i in pitched for n in i.notes), default=84) + 2
    for k, inst in reversed(list(enumerate(midi.instruments))):  # the melody is drawn on top
        colour = cmap(k % 10)
        if inst.is_drum:
            y0, y1 = lo - 4, lo - 1
            verts = [[(n.start, y0), (n.start + 0.04, y0), (n.start + 0.04, y1), (n.start, y1)]
                     for n in inst.notes]  # fmt: skip
        else:
            verts = [[(n.start, n.pitch - 0.4), (n.end, n.pitch - 0.4), (n.end, n.pitch + 0.4),
                      (n.start, n.pitch + 0.4)] for n in inst.notes]  # fmt: skip
        ax.add_collection(PolyCollection(verts, facecolors=colour, edgecolors="none", alpha=0.8))
        label = inst.name or ("drums" if inst.is_drum else
                              pretty_midi.program_to_instrument_name(inst.program))  # fmt: skip
        handles.insert(0, Patch(color=colour, label=f"{label} ({len(inst.notes)})"))
    end = max(midi.get_end_time(), 1.0)
    ax.set_xlim(0, end)
    ax.set_ylim(lo - 5, hi)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("MIDI pitch")
    ax.grid(True, alpha=0.2)
    if handles:
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.12), fontsize=7,
                  ncol=min(4, len(handles)), frameon=False)
    ax.set_title("Arrangement piano roll")
    return _png(fig)


def waveform_png(audio: np.ndarray, sample_rate: int, *, width: float = 12.0,
                 height: float = 5.0, target_lufs: float = -14.0) -> bytes:  # fmt: skip
    """Min/max waveform per channel above a short-term loudness (3 s, 10 Hz) curve."""
    x = loudness.as_channels(np.asarray(audio, dtype=np.float32))
    fig, (ax_w, ax_l) = _figure(width, height, rows=2, ratios=[2, 1])
    n = x.shape[1]
    bins = min(2000, max(1, n))
    edges = np.linspace(0, n, bins + 1).astype(int)
    t = edges[:-1] / sample_rate
    for c, colour in zip(range(min(2, x.shape[0])), ("tab:blue", "tab:orange"), strict=False):
        seg_max = np.maximum.reduceat(x[c], edges[:-1]) if n else np.zeros(bins)
        seg_min = np.minimum.reduceat(x[c], edges[:-1]) if n else np.zeros(bins)
        ax_w.fill_between(t, seg_min, seg_max, color=colour, alpha=0.6 if c == 0 else 0.4,
                          linewidth=0, label=("L", "R")[c])  # fmt: skip
    ax_w.set_ylim(-1, 1)
    ax_w.set_ylabel("amplitude")
    ax_w.legend(loc="upper right", fontsize=7)
    ax_w.set_title("Waveform and short-term loudness")
    if n >= 3 * sample_rate:
        st = loudness.short_term_loudness(x, sample_rate)
        ts = np.arange(st.size) * 0.1 + 1.5
        ax_l.plot(ts, np.where(np.isfinite(st), st, np.nan), color="tab:green", linewidth=1)
    ax_l.axhline(target_lufs, color="tab:red", linestyle="--", linewidth=0.8,
                 label=f"target {target_lufs:.0f} LUFS integrated")  # fmt: skip
    ax_l.set_ylim(target_lufs - 24, target_lufs + 10)
    ax_l.set_ylabel("LUFS (3 s)")
    ax_l.set_xlabel("time (s)")
    ax_l.legend(loc="lower right", fontsize=7)
    ax_l.set_xlim(0, max(n / sample_rate, 1e-3))
    for ax in (ax_w, ax_l):
        ax.grid(True, alpha=0.2)
    return _png(fig)
