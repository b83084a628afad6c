import sys

from django.core.management.base import BaseCommand, CommandError

from marketplace.catalog import services
from marketplace.core.errors import MarketplaceError
from marketplace.vendors.models import Vendor


class Command(BaseCommand):
    help = ("Import a vendor's products from CSV (docs/catalog.md). Each product is written whole or not at "
            "all; safe to interrupt and run again (rows are upserted by product slug and SKU).")

    def add_arguments(self, parser):
        parser.add_argument("vendor_slug")
        parser.add_argument("csv_path")

    def handle(self, vendor_slug, csv_path, **options):
        vendor = Vendor.objects.filter(slug=vendor_slug).first()
        if vendor is None:
            raise CommandError(f"No vendor {vendor_slug!r}")
        with open(csv_path, encoding="utf-8-sig") as handle:
            text = handle.read()

        def progress(done, total):
            sys.stderr.write(f"\r{done}/{total} products")
            if done == total:
                sys.stderr.write("\n")

        try:
            result = services.import_products_csv(vendor, text, progress=progress)
        except MarketplaceError as exc:
            raise CommandError(exc.message) from None
        for error in result["errors"]:
            self.stderr.write(f"row {error['row']}: {error['field'] or '-'}: {error['code']}: {error['message']}")
        self.stdout.write(f"created {result['created']}, updated {result['updated']}, "
                          f"{len(result['errors'])} row errors")
