"""Cadenza's generation app: the model, the audio pipeline, provenance and the jobs around them.

pyfluidsynth >= 1.4 prints where it found libfluidsynth on stdout when the ``CI`` environment
variable is set, and pretty_midi imports it. Commands here print JSON on stdout and one-line
errors on stderr, so the library is imported once, with that line discarded, before anything
else can.
"""

import contextlib as _contextlib
import io as _io

# without libfluidsynth the import fails; only rendering needs it, and it says so itself
with _contextlib.redirect_stdout(_io.StringIO()), _contextlib.suppress(ImportError):
    import fluidsynth as _fluidsynth  # noqa: F401
