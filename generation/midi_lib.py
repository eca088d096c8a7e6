"""pretty_midi, imported so that nothing lands on stdout.

pretty_midi imports pyfluidsynth, and pyfluidsynth >= 1.4 prints where it found libfluidsynth on
stdout whenever ``CI`` is set. Our commands (and benchmark children) print JSON on stdout, so every
module of ours takes pretty_midi from here: ``from generation.midi_lib import pretty_midi``.
"""

import contextlib
import io

with contextlib.redirect_stdout(io.StringIO()):
    import pretty_midi

__all__ = ["pretty_midi"]
