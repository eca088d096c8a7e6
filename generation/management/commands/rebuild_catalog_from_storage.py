"""Rebuild tracks, renditions, provenance and licences from the bucket alone."""

import json

from django.core.management.base import BaseCommand

from generation.services.rebuild import catalog_rebuild


class Command(BaseCommand):
    help = "Recreate Track, Rendition, Provenance and Licence rows from the objects in storage."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **options):
        report = catalog_rebuild()
        self.stdout.write(json.dumps(report, indent=2) if options["json"] else str(report))
