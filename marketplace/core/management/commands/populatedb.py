from django.core.management.base import BaseCommand

from fixtures import demo


class Command(BaseCommand):
    help = "Load the demo data (idempotent: safe to run again)."

    def handle(self, *args, **options):
        demo.load(stdout=self.stdout)
