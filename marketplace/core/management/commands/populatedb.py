import time

from django.core.management.base import BaseCommand

from fixtures import demo


class Command(BaseCommand):
    help = "Load the demo marketplace (idempotent: safe to run again; running it twice creates nothing new)."

    def handle(self, *args, **options):
        started = time.perf_counter()
        demo.load(stdout=self.stdout)  # also rebuilds the search index (the demo is bulk-created)
        self.stdout.write(f"Done in {time.perf_counter() - started:.1f}s.\n")
