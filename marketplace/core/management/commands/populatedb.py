import time

from django.core.management.base import BaseCommand

from fixtures import demo


class Command(BaseCommand):
    help = "Load the demo marketplace (idempotent: safe to run again; running it twice creates nothing new)."

    def handle(self, *args, **options):
        started = time.perf_counter()
        demo.load(stdout=self.stdout)
        from search.backends import get_backend

        backend = get_backend()
        if backend.keeps_index:  # the demo is bulk-created (no events): index it in one go
            backend.rebuild()
            self.stdout.write(f"Search index rebuilt ({backend.name} backend).\n")
        self.stdout.write(f"Done in {time.perf_counter() - started:.1f}s.\n")
