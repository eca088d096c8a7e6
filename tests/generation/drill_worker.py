"""A Celery worker for fault drills: ``python -m tests.generation.drill_worker PAUSE_S -- <worker args>``.

It pauses PAUSE_S seconds at the start of every pipeline stage so a drill can kill a pool process
inside it. The pause is wrapped around the stage functions here, in the drill's own process
(prefork children inherit it), so production code has no fault-injection path.
"""

import functools
import sys
import time


def _paused(stage, pause_s: float):
    @functools.wraps(stage)
    def run(job):
        time.sleep(pause_s)
        return stage(job)

    return run


def main(argv: list[str]) -> None:
    import django

    pause_s, worker_args = float(argv[0]), argv[argv.index("--") + 1:]
    django.setup()
    from config.celery import app
    from generation.services import stages

    if pause_s > 0:
        for status, stage in list(stages.STAGES.items()):
            stages.STAGES[status] = _paused(stage, pause_s)
    app.worker_main(["worker", *worker_args])


if __name__ == "__main__":
    main(sys.argv[1:])
