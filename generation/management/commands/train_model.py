"""Train the music model (thin wrapper: generation.model.train)."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from generation.model.corpus import DEFAULT_OUT, CorpusMissing
from generation.model.train import (
    DEBUG_DIR,
    DEBUG_MODEL,
    DEFAULT_CHECKPOINT,
    STATE_DIR,
    TrainConfig,
    train,
)


class Command(BaseCommand):
    help = "Train (resumable, seeded, 2 CPU threads) and write the checkpoint and model card."

    def add_arguments(self, parser):
        parser.add_argument("--steps", type=int, default=TrainConfig.steps)
        parser.add_argument("--seed", type=int, default=TrainConfig.seed)
        parser.add_argument("--threads", type=int, default=TrainConfig.threads)
        parser.add_argument("--out", type=Path, default=DEFAULT_CHECKPOINT)
        parser.add_argument("--state-dir", type=Path, default=STATE_DIR)
        parser.add_argument("--corpus", type=Path, default=DEFAULT_OUT,
                            help="the prepared corpus (build_corpus writes it)")
        parser.add_argument("--no-resume", action="store_true")
        parser.add_argument("--debug", action="store_true", help="tiny model (tests)")

    def handle(self, *args, steps, seed, threads, out, state_dir, corpus, no_resume, debug,
               **options):
        cfg = TrainConfig(steps=steps, seed=seed, threads=threads)
        if debug:  # never overwrite the shipped checkpoint with a debug model
            cfg.model, cfg.batch_size, cfg.eval_every = DEBUG_MODEL, 4, 10
            if out == DEFAULT_CHECKPOINT:
                out, state_dir = DEBUG_DIR / "debug.pt", DEBUG_DIR / "state"
        try:
            result = train(cfg, corpus_dir=corpus, state_dir=state_dir, out=out,
                           resume=not no_resume, write_card=not debug)
        except CorpusMissing as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(json.dumps(result))
