"""The engine is pure: importing it (and the simulator) loads neither Django nor torch."""

import subprocess
import sys


def test_the_engine_imports_no_django_and_no_torch():
    code = ("import sys; import recommendations.engine.evaluation, recommendations.engine.compose_next; "
            "bad = [m for m in ('django', 'torch') if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
