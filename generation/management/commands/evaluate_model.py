"""Evaluate the shipped checkpoint (thin wrapper: generation.model.evaluate)."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from generation.model.corpus import DEFAULT_OUT, CorpusMissing
from generation.model.evaluate import evaluate, update_card
from generation.model.train import DEFAULT_CHECKPOINT


class Command(BaseCommand):
    help = "NLL vs n-gram, control accuracy, originality, statistics and speed, as JSON."

    def add_arguments(self, parser):
        parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT)
        parser.add_argument("--pieces", type=int, default=64)
        parser.add_argument("--candidates", type=int, default=6)
        parser.add_argument("--guidance", type=float, default=1.5)
        parser.add_argument("--render", type=Path, default=None, help="write MIDI+WAV here")
        parser.add_argument("--sections", default="nll,control,speed")
        parser.add_argument("--json", action="store_true", help="one line of JSON")
        parser.add_argument("--write-card", action="store_true",
                            help="add the figures to the checkpoint's MODEL_CARD.md")
        parser.add_argument("--card-note", default="")
        parser.add_argument("--corpus", type=Path, default=DEFAULT_OUT,
                            help="the prepared corpus (build_corpus writes it)")
        parser.add_argument("--heard-render", type=Path, default=None,
                            help="with the heard section: one arranged track per style and metre here")
        parser.add_argument("--heard-seed", type=int, default=0,
                            help="with the heard section: the seed that draws its requests (heard_requests)")

    def handle(self, *args, checkpoint, pieces, candidates, guidance, render, sections,
               corpus, json=False, write_card=False, card_note="", heard_render=None, heard_seed=0, **options):
        try:
            result = evaluate(checkpoint, n_pieces=pieces, n_candidates=candidates,
                              guidance=guidance, corpus_dir=corpus, render_dir=render,
                              sections=tuple(sections.split(",")))
            if "heard" in sections.split(","):  # control as heard: the arranged output (generation.audio.heard)
                result["as_heard"] = _heard(checkpoint, pieces, corpus, heard_render, heard_seed)
        except CorpusMissing as exc:
            raise CommandError(str(exc)) from exc
        if write_card:
            update_card(checkpoint, result, card_note)
        self.stdout.write(_dumps(result, None if json else 1))


def _heard(checkpoint, pieces, corpus, render_dir, seed=0):
    from django.conf import settings

    from generation.audio.heard import heard_section
    from generation.model.compose import load_bundle
    from generation.model.corpus import load_corpus

    return heard_section(load_bundle(checkpoint), n_pieces=pieces, seed=seed, corpus=load_corpus(corpus),
                         compose_options=dict(settings.CADENZA_COMPOSE_OPTIONS), render_dir=render_dir)


def _dumps(value, indent):
    return json.dumps(value, indent=indent)
