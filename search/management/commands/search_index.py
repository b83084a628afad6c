"""`manage.py search_index rebuild|status|retry-failures|optimize`."""
import json
import time

from django.core.management.base import BaseCommand, CommandError

from search.backends import get_backend


class Progress:
    """A progress bar on stderr (a Django OutputWrapper): count, percentage, documents
    per second. Redrawn in place on a terminal, a line every 5 seconds otherwise."""

    def __init__(self, stream, width=30, every=0.25):
        self.stream = stream
        self.width = width
        self.every = every
        self.last = 0.0
        self.tty = hasattr(stream, "isatty") and stream.isatty()

    def __call__(self, kind, done, total, elapsed):
        now = time.monotonic()
        finished = done >= total
        if not finished and now - self.last < (self.every if self.tty else 5.0):
            return
        self.last = now
        share = done / total if total else 1.0
        filled = int(self.width * share)
        rate = done / elapsed if elapsed > 0 else 0.0
        line = (f"{kind:<8} [{'#' * filled}{'.' * (self.width - filled)}] {done:>9,}/{total:,} "
                f"{share:6.1%}  {rate:,.0f} docs/s")
        self.stream.write(("\r" + line) if self.tty else (line + "\n"), ending="")
        if finished and self.tty:
            self.stream.write("\n", ending="")
        self.stream.flush()


class Command(BaseCommand):
    help = ("Search index lifecycle. `rebuild`: build new versioned indices from the database and swap the "
            "aliases atomically (the old index serves until the swap). `status`: database vs index counts, lag, "
            "failures. `retry-failures`: queue again the documents recorded as failed. `optimize`: reorganise the "
            "index for reading (the database backend on PostgreSQL: its text tables in locality order; also run "
            "nightly).")

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["rebuild", "status", "retry-failures", "optimize"])
        parser.add_argument("--only", choices=["products", "shops"], help="Rebuild one kind only.")
        parser.add_argument("--chunk-size", type=int, default=1000)
        parser.add_argument("--force", action="store_true",
                            help="Discard an unfinished rebuild (a crashed one) before starting.")
        parser.add_argument("--json", action="store_true", help="status: print JSON.")

    def handle(self, action, **options):
        backend = get_backend()
        if action == "rebuild":
            self.rebuild(backend, options)
        elif action == "status":
            self.status(backend, options)
        elif action == "optimize":
            result = backend.optimize()
            if not result:
                self.stdout.write(f"The {backend.name} backend has nothing to optimize here.\n")
                return
            self.stdout.write(f"optimized in {result['seconds']:.1f}s: {', '.join(result['clustered']) or 'nothing'} "
                              "rewritten.\n")
            for table, reason in result["skipped"].items():
                self.stdout.write(f"  skipped {table}: {reason} (the next run rewrites it)\n")
        else:
            from search.tasks import retry_failures

            self.stdout.write(json.dumps(retry_failures()) + "\n")

    def rebuild(self, backend, options):
        if not backend.keeps_index:
            self.stdout.write(f"The {backend.name} backend keeps no index: nothing to rebuild.\n")
            return
        from search.backends.elasticsearch import RebuildError

        kinds = (options["only"],) if options["only"] else ("products", "shops")
        try:
            results = backend.rebuild(progress=Progress(self.stderr), chunk_size=options["chunk_size"], kinds=kinds,
                                      force=options["force"])
        except RebuildError as exc:
            raise CommandError(str(exc)) from exc
        for kind, result in results.items():
            replaced = ", ".join(result["replaced"]) or "nothing"
            merged = f", then merged in {result['merge_seconds']:.1f}s" if "merge_seconds" in result else ""
            self.stdout.write(f"{kind}: {result['documents']:,} documents into {result['index']} in "
                              f"{result.get('indexing_seconds', result['seconds']):.1f}s "
                              f"({result['per_second']:,.0f} docs/s){merged}; replaced {replaced}.\n")

    def status(self, backend, options):
        status = backend.status()
        if options["json"]:
            self.stdout.write(json.dumps(status, indent=2, default=str) + "\n")
            return
        self.stdout.write(f"backend: {status['backend']}" + (f" ({status['url']})" if status.get("url") else "")
                          + "\n")
        if not backend.keeps_index:
            self.stdout.write(f"visible products: {status['products']['database']:,}\n{status.get('note', '')}\n")
            return
        problems = 0
        for kind in ("products", "shops"):
            entry = status[kind]
            indices = ", ".join(entry["indices"]) or "MISSING (run `search_index rebuild`)"
            where = "alias" if backend.name == "elasticsearch" else "table"
            self.stdout.write(f"{kind}: {where} {entry['alias']} -> {indices}\n")
            if entry["rebuilding"]:
                self.stdout.write(f"  rebuild in progress: {', '.join(entry['rebuilding'])}\n")
            index_count = entry["index"] if entry["index"] is not None else "-"
            self.stdout.write(f"  database (visible): {entry['database']:,}   index documents: {index_count}\n")
            lag = entry["lag_seconds"]
            self.stdout.write(f"  lag: {lag:.1f}s behind the newest database change\n" if lag is not None
                              else "  lag: unknown (empty index or database)\n")
            if entry["failures"]:
                self.stdout.write(f"  failures: {entry['failures']} document(s) refused or not queued "
                                  "(`search_index retry-failures`)\n")
            if entry["missing_fields"]:
                self.stdout.write(f"  plugin fields not in the live mapping: {', '.join(entry['missing_fields'])} "
                                  "(rebuild to add them)\n")
            if (entry["index"] != entry["database"] or entry["failures"] or entry["missing_fields"]
                    or not entry["indices"]):
                problems += 1
        if problems:
            self.stdout.write("status: OUT OF SYNC\n")
        else:
            self.stdout.write("status: in sync\n")
