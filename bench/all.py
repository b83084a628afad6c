#!/usr/bin/env python
"""Every figure of issue 18's table in one run: the listing (demo catalog and 100k
products), its app time over its own SQL time, checkout orders/s on 2 workers at 20 and
50 clients with the oversell check, and Elasticsearch search with facets at 100k (p95).
Each figure is printed with the load average around it. Not a test.

    eval "$(python3 scripts/localservices.py env)"
    python bench/all.py                      # about 8 minutes once the data exist
    python bench/all.py --only listing,checkout --database marketplace_8_bench

It runs bench/listing.py (twice: --products 0 on a demo-only database, then the 100k
database), bench/checkout.py (--clients 20, then 50) and bench/search.py one after the
other, each writing its figures with --json, and prints the table at the end (each
bench's own full report is printed as it runs). See bench/README.md.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TARGETS = {"listing": 15.0, "ratio": 3.0, "checkout": 50.0, "search": 30.0}


def run(script, *args):
    out = Path(tempfile.mkstemp(prefix="bench-", suffix=".json")[1])
    command = [sys.executable, str(HERE / script), *map(str, args), "--json", str(out)]
    print(f"\n$ {' '.join(command[1:])}", flush=True)
    began = time.monotonic()
    finished = subprocess.run(command, cwd=HERE.parent)
    try:
        figures = json.loads(out.read_text()) if finished.returncode == 0 and out.stat().st_size else None
    finally:
        out.unlink(missing_ok=True)
    if figures is not None:
        figures["seconds"] = time.monotonic() - began
    return figures


def load(figures):
    return f"load {figures['load_start']:.1f} / {figures['load_end']:.1f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="marketplace_bench", help="the 100k-product database (bench/listing.py)")
    parser.add_argument("--demo-database", default="marketplace_bench_demo", help="demo catalog only")
    parser.add_argument("--checkout-database", default="marketplace_bench_checkout")
    parser.add_argument("--search-prefix", default="bench-search-", help="Elasticsearch index prefix of search.py")
    parser.add_argument("--only", default="listing,checkout,search", help="comma-separated parts to run")
    parser.add_argument("--requests", type=int, default=200, help="sequential listing requests per figure")
    args = parser.parse_args()
    parts = set(args.only.split(","))
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        sys.exit('Run with the local services: eval "$(python3 scripts/localservices.py env)"')

    results = {}
    if "listing" in parts:
        results["demo"] = run("listing.py", "--database", args.demo_database, "--products", "0",
                              "--requests", args.requests)
        results["100k"] = run("listing.py", "--database", args.database, "--requests", args.requests)
    if "checkout" in parts:
        for clients in (20, 50):
            results[f"checkout{clients}"] = run("checkout.py", "--database", args.checkout_database,
                                                "--clients", clients, "--workers", 2)
        # The oversell check where it bites: 50 clients racing for the last 40 units of each variant.
        results["checkout_race"] = run("checkout.py", "--database", args.checkout_database, "--clients", 50,
                                       "--workers", 2, "--stock", 40, "--seconds", 10, "--sequential", 5)
    if "search" in parts:
        results["search"] = run("search.py", "--database", args.database, "--prefix", args.search_prefix)

    rows = []
    demo, big = results.get("demo"), results.get("100k")
    if demo or big:
        figure = " / ".join(f"{r['listing50_p50']:.1f}" if r else "-" for r in (demo, big))
        ok = all(r and r["listing50_p50"] <= TARGETS["listing"] for r in (demo, big))
        rows.append(("listing 50 products p50 (demo catalog / 100k)", f"{figure} ms", "<= 15 ms", ok,
                     "; ".join(f"{name} {load(r)}" for name, r in (("demo", demo), ("100k", big)) if r)))
        for name, r in (("demo", demo), ("100k", big)):
            if r:
                rows.append((f"  ({name}) SQL statements, p95, 8-client req/s",
                             f"{r['sql_queries']}, {r['listing50_p95']:.1f} ms, {r['throughput_rps']:.1f}", "", None,
                             f"{r['products']:,} products"))
    if big:
        rows.append(("listing app time / its own SQL time (100k, in-process)",
                     f"{big['ratio']:.1f}x ({big['app_ms']:.1f} / {big['sql_ms']:.1f} ms)", "<= 3x",
                     big["ratio"] <= TARGETS["ratio"], load(big)))
    for clients in (20, 50):
        r = results.get(f"checkout{clients}")
        if r:
            rows.append((f"checkout orders/s at {clients} clients, 2 workers",
                         f"{r['orders_per_s']:.1f} ({r['failed']} failed, oversell: {'YES' if r['oversell'] else 'none'})",
                         ">= 50, 0 oversell", r["orders_per_s"] >= TARGETS["checkout"] and not r["oversell"],
                         f"{load(r)}; 1 client: flow p50 {r['flow_p50_1_client']:.0f} ms"))
    r = results.get("checkout_race")
    if r:
        rows.append(("checkout race: 50 clients for the last 40 units", f"{r['sold_out']} flows sold out, "
                     f"{r['failed']} failed, oversell: {'YES' if r['oversell'] else 'none'}", "0 oversell",
                     not r["oversell"], load(r)))
    r = results.get("search")
    if r:
        rows.append(("Elasticsearch search with facets, p95", f"{r['p95']:.1f} ms (p50 {r['p50']:.1f})",
                     "<= 30 ms", r["p95"] <= TARGETS["search"], f"{load(r)}; {r['products']:,} products"))
    missing = [name for name, value in results.items() if value is None]

    print("\n\nIssue 18's table (each bench's full report is above)")
    print(f"machine: {os.cpu_count()} CPUs; load average now {os.getloadavg()[0]:.2f} (1 min)")
    widths = [max(len(str(row[i])) for row in rows + [("measure", "measured", "target")]) for i in range(3)]
    print(f"{'measure':<{widths[0]}}  {'measured':<{widths[1]}}  {'target':<{widths[2]}}  verdict  load average, notes")
    for name, figure, target, ok, note in rows:
        verdict = "" if ok is None else ("ok" if ok else "MISSED")
        print(f"{name:<{widths[0]}}  {figure:<{widths[1]}}  {target:<{widths[2]}}  {verdict:<7}  {note}")
    if missing:
        print("failed to run:", ", ".join(missing))


if __name__ == "__main__":
    main()
