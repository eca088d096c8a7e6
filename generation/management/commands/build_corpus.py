"""Build the training corpus and its manifest (thin wrapper: generation.model.corpus)."""

import json
import logging
from pathlib import Path

from django.core.management.base import BaseCommand

from generation.model.corpus import (
    DEFAULT_COLLECTIONS,
    DEFAULT_MANIFEST,
    DEFAULT_OUT,
    build_corpus,
)


class Command(BaseCommand):
    help = "Tokenise music21's bundled public-domain collections; write data + manifest."

    def add_arguments(self, parser):
        parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
        parser.add_argument("--manifest", type=Path, default=DEFAULT_MANIFEST)
        parser.add_argument("--collections", default=",".join(DEFAULT_COLLECTIONS))
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument("--limit", type=int, default=None, help="first N source files only")

    def handle(self, *args, out, manifest, collections, workers, limit, **options):
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
        summary = build_corpus(out, manifest, tuple(collections.split(",")), workers=workers,
                               limit=limit)
        self.stdout.write(json.dumps(summary))
