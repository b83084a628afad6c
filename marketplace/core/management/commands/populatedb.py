import time

from django.core.management.base import BaseCommand

from fixtures import demo


class Command(BaseCommand):
    help = "Load the demo marketplace (idempotent: safe to run again; running it twice creates nothing new)."

    def handle(self, *args, **options):
        started = time.perf_counter()
        demo.load(stdout=self.stdout)
        from django.conf import settings

        if settings.SEARCH_BACKEND == "elasticsearch":  # the demo is bulk-created: index it in one go
            from search.backends import get_backend

            get_backend().rebuild()
            self.stdout.write("Search index rebuilt.\n")
        self.stdout.write(f"Done in {time.perf_counter() - started:.1f}s.\n")
