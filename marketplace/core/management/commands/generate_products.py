from django.core.management.base import BaseCommand, CommandError

from fixtures import generate


class Command(BaseCommand):
    help = (
        "Create N synthetic published products (2 variants each, with prices and stock) for benchmarks. "
        "Safe to interrupt and run again: products are marked by their slug (gen-<seed>-<n>) and only the "
        "missing ones are created."
    )

    def add_arguments(self, parser):
        parser.add_argument("count", type=int, help="How many products seed S should have in total.")
        parser.add_argument("--vendors", type=int, default=50, help="Spread over this many generated vendors (50).")
        parser.add_argument("--batch", type=int, default=5000, help="Products per transaction (5000).")
        parser.add_argument("--seed", type=int, default=1, help="Random seed; also part of the marker (1).")

    def handle(self, *args, count, vendors, batch, seed, **options):
        if count < 0 or vendors < 1 or batch < 1:
            raise CommandError("count must be >= 0, --vendors and --batch >= 1.")
        interactive = self.stderr.isatty()

        def say(text):
            self.stderr.write(text, style_func=lambda s: s, ending="")
            self.stderr.flush()

        def progress(done, total, created, seconds):
            rate = created / seconds if seconds > 0 else 0.0
            eta = (total - done) / rate if rate else 0.0
            line = f"  {done:>9,}/{total:,} products  {rate:>8,.0f}/s  ETA {eta:>5.0f}s"
            say(("\r" + line) if interactive else line + "\n")

        try:
            result = generate.generate(count, vendors=vendors, batch=batch, seed=seed, progress=progress)
        except KeyboardInterrupt:
            say("\nInterrupted: the batches already committed stay; run the same command again to resume.\n")
            raise SystemExit(130)
        if interactive and result["created"]:
            say("\n")
        created = result["created"]
        rate = created / result["seconds"] if result["seconds"] else 0
        self.stdout.write(
            f"{created:,} product{'' if created == 1 else 's'} created ({result['existing']:,} already there) "
            f"in {result['seconds']:.1f}s ({rate:,.0f}/s); marker slug gen-{seed}-<n>.\n"
        )
