"""What beat runs every minute: top up every active listener's playlist (compose ahead)."""

import json

from django.core.management.base import BaseCommand

from recommendations.services.listening import playlists_refill


class Command(BaseCommand):
    help = "Top up the playlists of listeners active lately (in-process on the embedded default)."

    def handle(self, *args, **options):
        self.stdout.write(json.dumps({"listeners": playlists_refill()}))
