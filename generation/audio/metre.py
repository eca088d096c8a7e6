"""How a metre is felt: bar length, the pulses a listener taps, subdivision, accents.

Pure module (no Django). Positions are in quarter notes from the bar line. Simple metres pulse on
their beats and subdivide in two (eighths); compound metres (3/8, 6/8, 9/8, 12/8, 6/4) pulse on
dotted values and subdivide in three: a 6/8 bar is two dotted-quarter groups of three eighths, not
three quarters. The arranger writes every figure (bass, strums, arpeggios, grooves, accents) on
these pulses, so the requested metre is what the listener hears.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Feel:
    """One metre as the arranger plays it."""

    signature: str  # "6/8"
    bar: float  # quarter notes per bar
    pulses: tuple[float, ...]  # felt beats within the bar (quarter notes from the bar line)
    sub: float  # subdivision, quarter notes (an eighth in 4/4 and in 6/8)
    chord_step: float  # how often the harmony may change (quarter notes)

    @property
    def compound(self) -> bool:
        """Pulses divide in three subdivisions."""
        return abs(self.pulse / self.sub - 3.0) < 1e-6

    @property
    def pulse(self) -> float:
        """The felt beat's length (a dotted quarter in 6/8)."""
        return self.pulses[1] - self.pulses[0] if len(self.pulses) > 1 else self.bar

    def pulses_in(self, start: float, length: float) -> list[float]:
        """Pulse positions from ``start`` (a position within a bar, quarter notes) over ``length``."""
        out, bar0 = [], start - (start % self.bar)
        for k in range(int(length / self.bar) + 2):
            for p in self.pulses:
                pos = bar0 + k * self.bar + p
                if start - 1e-6 <= pos < start + length - 1e-6:
                    out.append(pos - start)
        return out

    def accent(self, position: float, levels: tuple[int, int, int] | None = None) -> int:
        """Velocity accent of a note at ``position`` (quarter notes from the start of the piece):
        the downbeat most, other pulses a little, the rest a little less (``levels``: the
        three accents, e.g. stronger pulses for a compound metre)."""
        downbeat, pulse, other = levels or (10, 3, -4)
        pos = position % self.bar
        if pos < 0.05 or pos > self.bar - 0.05:
            return downbeat
        if any(abs(pos - p) < 0.05 for p in self.pulses):
            return pulse
        return other


FEELS: dict[str, Feel] = {
    f.signature: f
    for f in (
        Feel("4/4", 4.0, (0.0, 1.0, 2.0, 3.0), 0.5, 2.0),
        Feel("2/2", 4.0, (0.0, 2.0), 1.0, 2.0),
        Feel("3/4", 3.0, (0.0, 1.0, 2.0), 0.5, 3.0),
        Feel("2/4", 2.0, (0.0, 1.0), 0.5, 2.0),
        Feel("3/8", 1.5, (0.0,), 0.5, 1.5),
        Feel("6/8", 3.0, (0.0, 1.5), 0.5, 3.0),
        Feel("9/8", 4.5, (0.0, 1.5, 3.0), 0.5, 4.5),
        Feel("12/8", 6.0, (0.0, 1.5, 3.0, 4.5), 0.5, 3.0),
        Feel("6/4", 6.0, (0.0, 3.0), 1.0, 3.0),
        Feel("3/2", 6.0, (0.0, 2.0, 4.0), 1.0, 6.0),
    )
}


def feel(signature: str) -> Feel:
    """The feel of ``"num/den"`` (ValueError naming the supported ones otherwise)."""
    try:
        return FEELS[signature]
    except KeyError:
        raise ValueError(f"metre: unknown time signature {signature!r}; one of {', '.join(FEELS)}") from None
