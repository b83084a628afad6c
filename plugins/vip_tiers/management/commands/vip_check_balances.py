"""Check the loyalty ledger: every account's cached balances against the sum of its
entries, and its live lots against its available balance. Exit status 1 on a mismatch.

    python manage.py vip_check_balances [--vendor <id>]
"""
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Check that every VIP account's cached points and cashback balances equal the sum of its ledger."

    def add_arguments(self, parser):
        parser.add_argument("--vendor", type=int, default=None, help="Only this store (vendor id).")

    def handle(self, *args, vendor=None, **options):
        from plugins.vip_tiers.services import integrity

        checked, mismatches = integrity.check(vendor)
        for mismatch in mismatches:
            self.stderr.write(str(mismatch))
        self.stdout.write(f"{checked} accounts checked, {len(mismatches)} mismatches.\n")
        if mismatches:
            raise CommandError(f"{len(mismatches)} balance mismatches")
