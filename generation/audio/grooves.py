"""Drum grooves as data: one kit per drum style, a groove per metre, two densities each.

Pure module (no Django). A groove line is a grid over one bar: each character is one step (the
bar divided by the string's length: 16 steps of a 4/4 bar are sixteenths, 12 steps of a 6/8 bar
are sixteenths in two dotted-quarter groups), ``X`` an accent, ``x`` a hit, ``o`` a ghost note,
``.`` a rest. Every kit has grooves for 4/4, 3/4, 6/8 and 2/4, each with variants (the seed
picks one per section); the other metres are built from those (2/2 plays 4/4, 12/8 two 6/8 bars,
9/8 one and a half, 3/8 half, 6/4 a 6/8 bar at half speed, 3/2 a 3/4 bar at half speed).
``Kit.revised`` holds grooves rewritten for a later arranger version (``Rules.revised_grooves``,
version 5: the 6/8 grooves accent only eighths 1 and 4 and put nothing heavy on eighths 3 and 5);
earlier versions keep playing ``Kit.grooves``, so their tracks re-arrange byte for byte.

GM drum keys: 36 kick, 38 snare, 39 clap, 41/45/47/48 toms, 42 closed hat, 46 open hat,
49 crash, 51 ride, 52 china, 54 tambourine, 69 cabasa, 70 maracas, 37 side stick.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from generation.audio.metre import Feel

Grid = dict[int, tuple[int, str]]  # key → (velocity of an accent, grid)


@dataclass(frozen=True)
class Kit:
    """A style's drums: grooves per metre, the fill, the crash and the final hits."""

    name: str
    grooves: dict[str, dict[str, tuple[Grid, ...]]]  # metre → "main"/"light" → variants
    fill_keys: tuple[int, ...] = (38, 45, 47, 48, 38)
    crash: int | None = 49  # on the first bar of a full section
    final: tuple[tuple[int, int, float], ...] = ((49, 90, 2.0), (36, 100, 0.5))  # key, vel, beats
    revised: dict[str, dict[str, tuple[Grid, ...]]] = field(default_factory=dict)  # metre → grooves from arranger v5


KITS: dict[str, Kit] = {
    k.name: k
    for k in (
        Kit("folk", {
            "4/4": {"main": ({36: (80, "X.......x......."), 38: (60, "....x.......x..."),
                              54: (64, "X.x.x.x.X.x.x.x.")},
                             {36: (80, "X.......x..x...."), 38: (58, "....x.......x..o"),
                              54: (60, "x.x.X.x.x.x.X.x.")}),
                     "light": ({36: (70, "X.......x......."), 69: (46, "x...x...x...x...")},)},
            "3/4": {"main": ({36: (80, "X..........."), 38: (58, "....x...x..."),
                              54: (62, "X.x.x.x.x.x.")},
                             {36: (80, "X.......o..."), 38: (56, "....x...x..."),
                              54: (60, "X...x...x...")}),
                    "light": ({36: (70, "X..........."), 69: (46, "x...x...x...")},)},
            "6/8": {"main": ({36: (80, "X.....x....."), 38: (56, "......x....."),
                              54: (62, "X.o.o.X.o.o.")},
                             {36: (80, "X.....x...o."), 38: (54, "......x....o"),
                              54: (60, "X.x.x.X.x.x.")}),
                    "light": ({36: (70, "X.....x....."), 69: (46, "x.....x.....")},)},
            "2/4": {"main": ({36: (80, "X......."), 38: (60, "....x..."), 54: (62, "X.x.X.x.")},
                             {36: (80, "X.....o."), 38: (58, "....x..o"), 54: (60, "X.x.x.x.")}),
                    "light": ({36: (70, "X......."), 69: (46, "x...x...")},)},
        }, revised={
            "6/8": {"main": ({36: (80, "X.........o."), 38: (56, "......x....."),
                              54: (62, "X.o.o.X.o.o.")},
                             {36: (80, "X.........x."), 38: (54, "......x....o"),
                              54: (60, "X.x.x.X.x.x.")}),
                    "light": ({36: (70, "X..........."), 69: (46, "x.o.o.x.o.o.")},)},
        }),
        Kit("boom_bap", {
            "4/4": {"main": ({36: (96, "X.....x...x....."), 38: (90, "....X.......X..."),
                              42: (66, "x.x.x.x.x.x.x.x.")},
                             {36: (96, "X.........x..x.."), 38: (90, "....X.......X..."),
                              42: (64, "x.x.x.x.x.x.x.xo")}),
                     "light": ({36: (84, "X.........x....."), 39: (70, "............x..."),
                                42: (48, "x...x...x...x...")},)},
            "3/4": {"main": ({36: (96, "X.......x..."), 38: (90, "....X......."),
                              42: (64, "x.x.x.x.x.x.")},
                             {36: (96, "X.....x....."), 38: (88, "........X..."),
                              42: (62, "x.x.x.x.x.xo")}),
                    "light": ({36: (84, "X..........."), 39: (70, "........x..."),
                               42: (48, "x...x...x...")},)},
            "6/8": {"main": ({36: (96, "X...x......."), 38: (90, "......X....."),
                              42: (64, "x.x.x.x.x.x.")},
                             {36: (96, "X.........x."), 38: (90, "......X....."),
                              42: (62, "x.x.x.x.x.x.")}),
                    "light": ({36: (84, "X..........."), 39: (70, "......x....."),
                               42: (48, "x.....x.....")},)},
            "2/4": {"main": ({36: (96, "X.....x."), 38: (90, "....X..."), 42: (64, "x.x.x.x.")},
                             {36: (96, "X..x...."), 38: (90, "....X..."), 42: (62, "x.x.x.xo")}),
                    "light": ({36: (84, "X......."), 39: (70, "....x..."), 42: (48, "x...x...")},)},
        }, revised={
            "6/8": {"main": ({36: (96, "X.........x."), 38: (90, "......X....."),
                              42: (64, "X.x.x.X.x.x.")},
                             {36: (96, "X.....o...x."), 38: (90, "......X....."),
                              42: (62, "X.x.x.X.x.xo")}),
                    "light": ({36: (84, "X..........."), 39: (70, "......x....."),
                               42: (48, "x.o.o.x.o.o.")},)},
        }),
        Kit("four_on_floor", {
            "4/4": {"main": ({36: (110, "X...X...X...X..."), 39: (90, "....x.......x..."),
                              46: (72, "..x...x...x...x."), 42: (48, ".x.x.x.x.x.x.x.x")},
                             {36: (110, "X...X...X...X..."), 38: (84, "....x.......x..."),
                              42: (60, "x.x.x.x.x.x.x.x.")}),
                     "light": ({36: (100, "X...X...X...X..."), 42: (60, "..x...x...x...x.")},)},
            "3/4": {"main": ({36: (110, "X...X...X..."), 39: (88, "....x...x..."),
                              46: (70, "..x...x...x."), 42: (48, ".x.x.x.x.x.x")},
                             {36: (110, "X...X...X..."), 38: (84, "....x......."),
                              42: (60, "x.x.x.x.x.x.")}),
                    "light": ({36: (100, "X...X...X..."), 42: (60, "..x...x...x.")},)},
            "6/8": {"main": ({36: (110, "X.....X....."), 39: (88, "......x....."),
                              42: (60, "..x.x...x.x."), 46: (70, "....x.....x.")},
                             {36: (110, "X.....X....."), 38: (84, "......x....."),
                              42: (60, "x.x.x.x.x.x.")}),
                    "light": ({36: (100, "X.....X....."), 42: (60, "..x.x...x.x.")},)},
            "2/4": {"main": ({36: (110, "X...X..."), 39: (90, "....x..."), 46: (72, "..x...x."),
                              42: (48, ".x.x.x.x")},
                             {36: (110, "X...X..."), 38: (84, "....x..."), 42: (60, "x.x.x.x.")}),
                    "light": ({36: (100, "X...X..."), 42: (60, "..x...x.")},)},
        }, revised={
            "6/8": {"main": ({36: (110, "X.....X....."), 39: (88, "......x....."),
                              42: (58, "X.x.x.X.x.x."), 46: (70, "..........x.")},
                             {36: (110, "X.....X....."), 38: (84, "......x....."),
                              42: (60, "X.x.x.X.x.x.")}),
                    "light": ({36: (100, "X.....X....."), 42: (56, "x.o.o.x.o.o.")},)},
        }),
        Kit("cinematic", {
            "4/4": {"main": ({36: (100, "X.......x......."), 45: (80, "......x........."),
                              41: (88, "............x.x.")},
                             {36: (100, "X.......X......."), 47: (76, "....x.......x..."),
                              41: (84, "..............xx")}),
                     "light": ({41: (74, "X.......x.......")},)},
            "3/4": {"main": ({36: (100, "X..........."), 45: (80, "....x......."),
                              41: (88, "........x.x.")},
                             {36: (100, "X.......x..."), 47: (76, "....x......."),
                              41: (84, "..........xx")}),
                    "light": ({41: (74, "X.......x...")},)},
            "6/8": {"main": ({36: (100, "X.....x....."), 45: (80, "...x........"),
                              41: (88, "......X..x..")},
                             {36: (100, "X.....X....."), 47: (76, "....x.....x."),
                              41: (84, "..........xx")}),
                    "light": ({41: (74, "X.....x.....")},)},
            "2/4": {"main": ({36: (100, "X......."), 45: (80, "...x...."), 41: (88, "....x.x.")},
                             {36: (100, "X...x..."), 47: (76, "..x....."), 41: (84, "......xx")}),
                    "light": ({41: (74, "X...x...")},)},
        }, crash=None, final=((52, 90, 2.0), (36, 100, 0.5)), revised={
            "6/8": {"main": ({36: (100, "X..........."), 45: (76, "......X....."),
                              41: (84, "..........x.")},
                             {36: (100, "X.....x....."), 47: (76, "..x.......x."),
                              41: (84, "......X.....")}),
                    "light": ({41: (74, "X.....x.....")},)},
        }),
    )
}

# metre → (groove it is built from, how many of its bars make one bar; the grid is spread over
# the real bar, so 6/4 plays 6/8 at half speed)
DERIVED: dict[str, tuple[str, float]] = {
    "2/2": ("4/4", 1.0),
    "12/8": ("6/8", 2.0),
    "9/8": ("6/8", 1.5),
    "3/8": ("6/8", 0.5),
    "6/4": ("6/8", 1.0),
    "3/2": ("3/4", 1.0),
}
LEVELS = {"X": 1.0, "x": 0.82, "o": 0.55}


def groove_hits(kit: Kit, feel: Feel, variant: str, choice: int, revised: bool = False
                ) -> list[tuple[float, int, int]]:  # fmt: skip
    """One bar of ``kit``'s groove in ``feel``'s metre: (position in quarter notes, key, velocity).
    ``choice`` picks among the variants (any integer; wraps); ``revised``: the kit's revised
    grooves for the metre where it has them (``Kit.revised``)."""
    base, tiles = DERIVED.get(feel.signature, (feel.signature, 1.0))
    options = (kit.revised if revised and base in kit.revised else kit.grooves)[base][variant]
    grid = options[choice % len(options)]
    hits: list[tuple[float, int, int]] = []
    for key, (velocity, line) in grid.items():
        step = feel.bar / (len(line) * tiles)
        for i in range(int(round(len(line) * tiles))):
            level = LEVELS.get(line[i % len(line)])
            if level:
                hits.append((i * step, key, int(round(velocity * level))))
    return sorted(hits)


def fill_hits(kit: Kit, feel: Feel) -> list[tuple[float, int, int]]:
    """A fill over the bar's last pulse(s): the groove's first half, then a climb on the fill keys
    in subdivisions (sixteenths in the last pulse)."""
    start = feel.bar / 2 if len(feel.pulses) > 1 else 0.0
    hits: list[tuple[float, int, int]] = [(0.0, 36, 90)]
    pos, k = start, 0
    while pos < feel.bar - 1e-6:
        last_pulse = pos >= feel.bar - feel.pulse - 1e-6
        step = feel.sub / 2 if last_pulse else feel.sub
        key = kit.fill_keys[min(k * len(kit.fill_keys) // 8, len(kit.fill_keys) - 1)]
        hits.append((pos, key, 70 + min(40, 4 * k)))
        pos += step
        k += 1
    return hits
