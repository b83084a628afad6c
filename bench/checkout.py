#!/usr/bin/env python
"""Benchmark: the whole purchase flow under concurrency, served by gunicorn from
PostgreSQL with a PaymentIntent on stripe-mock. Prints figures next to the targets of
/work/shared/TARGETS.md. Not a test.

    eval "$(python3 scripts/localservices.py env)"
    python bench/checkout.py [--clients 20] [--seconds 20] [--workers 2]

The server is `make serve`'s set (scripts/serve.py: gunicorn + a Celery worker + beat,
MARKETPLACE_ENV=production) on the benchmark's own database.

Per flow, as a storefront does it (5 requests): checkoutCreate with lines from two
vendors -> shipping address -> shipping method for each vendor -> checkoutComplete with
gateway "stripe" (reserves stock, creates the order and its sub-orders, creates the
PaymentIntent). Loopback only; bounded in time; gunicorn is stopped at the end.
Afterwards it checks there was no oversell: reserved units equal ordered units and
never exceed stock.
"""
import argparse
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from listing import Client, Server, ensure_database, manage, percentile, pg_connect, server_env, setup_env, with_database  # noqa: E402

DB_NAME = "marketplace_bench_checkout"
SETUP = r"""
from decimal import Decimal
from marketplace.accounts.models import User
from marketplace.catalog import services as catalog
from marketplace.catalog.models import ProductVariant, Stock
from marketplace.checkout.models import ShippingMethod
from marketplace.vendors import services as vendors
from marketplace.vendors.models import Vendor

if not Vendor.objects.filter(slug="bench-a").exists():
    cat = catalog.save_category({"name_zh": "刹车片", "slug": "bench-pads"})
    kind = catalog.save_product_type({"name_zh": "配件", "slug": "bench-part"})
    for slug in ("bench-a", "bench-b"):
        owner = User.objects.create_user(f"owner@{slug}.bench", "x")
        vendor = vendors.approve(vendors.apply(owner, "parts_vendor", slug, {"name_zh": slug}).pk)
        ShippingMethod.objects.create(vendor=vendor, name_zh="快递", price=Decimal("10.00"))
        product = catalog.save_product(vendor, {"slug": "p", "name_zh": "商品", "status": "published",
                                                "category_id": cat.pk, "product_type_id": kind.pk})
        variant = catalog.save_variant(product, {"sku": f"{slug}-1", "list_price": "199.00", "sale_price": "179.00"})
        catalog.set_stock(variant, vendor.warehouses.first().pk, 1_000_000)
for variant in ProductVariant.objects.filter(vendor__slug__in=["bench-a", "bench-b"]).select_related("vendor"):
    method = ShippingMethod.objects.get(vendor=variant.vendor)
    print(f"{variant.vendor.pk} {variant.pk} {method.pk}")
"""


def gid(type_name, pk):
    import base64

    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


def gql(client, query, variables):
    status, data = client.post(json.dumps({"query": query, "variables": variables}))
    result = json.loads(data)
    if status != 200 or result.get("errors"):
        raise RuntimeError(f"HTTP {status}: {data[:500]!r}")
    (payload,) = result["data"].values()
    if payload.get("errors"):
        raise RuntimeError(f"{payload['errors']}")
    return payload


CREATE = "mutation($l: [CheckoutLineInput!]) { checkoutCreate(lines: $l, email: \"bench@example.com\") { checkout { token } errors { code message } } }"
ADDRESS = """mutation($t: UUID!) { checkoutShippingAddressUpdate(token: $t, address: {fullName: "王小明", phone: "13800138000",
  province: "北京市", city: "北京市", street: "建国路88号"}) { errors { code message } } }"""
SHIP = "mutation($t: UUID!, $v: ID!, $m: ID!) { checkoutShippingMethodUpdate(token: $t, vendorId: $v, shippingMethodId: $m) { errors { code message } } }"
COMPLETE = """mutation($t: UUID!) { checkoutComplete(token: $t, gateway: "stripe") {
  order { number total { amount } } payment { reference clientSecret } errors { code message } } }"""


def flow(client, catalog):
    started = time.perf_counter()
    lines = [{"variantId": gid("ProductVariant", variant), "quantity": 1} for _vendor, variant, _method in catalog]
    token = gql(client, CREATE, {"l": lines})["checkout"]["token"]
    gql(client, ADDRESS, {"t": token})
    for vendor, _variant, method in catalog:
        gql(client, SHIP, {"t": token, "v": gid("Vendor", vendor), "m": gid("ShippingMethod", method)})
    before_complete = time.perf_counter()
    placed = gql(client, COMPLETE, {"t": token})
    assert placed["payment"]["reference"].startswith("pi_"), placed
    done = time.perf_counter()
    return (done - started) * 1000, (done - before_complete) * 1000


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--sequential", type=int, default=60)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2: production on this machine size)")
    parser.add_argument("--database", default=DB_NAME, help="database name (created if missing)")
    parser.add_argument("--json", help="also write the key figures to this file (bench/all.py reads it)")
    parser.add_argument("--stock", type=int, default=0,
                        help="units left to sell per variant (0: plenty); with a few, the clients race for the "
                             "last units and the flows that find them gone count as sold out")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--processes", default="web,worker,beat",
                        help="Procfile entries make serve starts (default all: the events go to a real worker)")
    args = parser.parse_args()
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith(("postgres://", "postgresql://")) or not os.environ.get("STRIPE_API_BASE"):
        sys.exit('Run with the local services: eval "$(python3 scripts/localservices.py env)"')
    database_url = with_database(base, args.database)
    ensure_database(base, args.database)
    env = setup_env(database_url)
    manage(env, "migrate", "--noinput", "-v", "0")
    import subprocess

    out = subprocess.run([sys.executable, "manage.py", "shell", "-v", "0", "-c", SETUP], cwd=Path(__file__).resolve().parent.parent,
                         env=env, check=True, capture_output=True, text=True).stdout
    catalog = [tuple(map(int, line.split())) for line in out.split("\n")
               if len(line.split()) == 3 and all(part.isdigit() for part in line.split())]
    with pg_connect(database_url) as conn:  # plenty again after a --stock race
        conn.execute("UPDATE catalog_stock SET quantity = reserved + 1000000 WHERE quantity - reserved < 100000 AND "
                     "variant_id IN (SELECT id FROM catalog_productvariant WHERE sku IN ('bench-a-1', 'bench-b-1'))")
    senv = server_env(database_url)
    senv.update(STRIPE_API_KEY="sk_test_bench", STRIPE_WEBHOOK_SECRET="whsec_bench",
                CELERY_TASK_DEFAULT_QUEUE="bench-checkout")  # its own worker takes the orders' events
    server = Server(senv, args.workers, args.threads, "gthread", processes=args.processes)
    try:
        server.wait()
        client = Client(server.port)
        for _ in range(5):
            flow(client, catalog)
        sequential = [flow(client, catalog) for _ in range(args.sequential)]
        client.close()

        whole, completes, errors = [], [], []
        lock = threading.Lock()
        stop_at = time.monotonic() + args.seconds

        def worker():
            own = Client(server.port)
            while time.monotonic() < stop_at:
                try:
                    total_ms, complete_ms = flow(own, catalog)
                except Exception as exc:  # counted and reported
                    with lock:
                        errors.append(str(exc)[:200])
                    continue
                with lock:
                    whole.append(total_ms)
                    completes.append(complete_ms)
            own.close()

        if args.stock:  # the concurrent phase races for the last units
            with pg_connect(database_url) as conn:
                conn.execute("UPDATE catalog_stock SET quantity = reserved + %s WHERE variant_id IN (SELECT id FROM "
                             "catalog_productvariant WHERE sku IN ('bench-a-1', 'bench-b-1'))", [args.stock])
        load_start = os.getloadavg()[0]
        started = time.monotonic()
        threads = [threading.Thread(target=worker) for _ in range(args.clients)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        elapsed = time.monotonic() - started
        load_end = os.getloadavg()[0]
    finally:
        server.stop()
    with pg_connect(database_url) as conn:
        reserved, quantity = conn.execute(
            "SELECT sum(s.reserved), sum(s.quantity) FROM catalog_stock s JOIN catalog_productvariant v ON v.id = s.variant_id "
            "WHERE v.sku IN ('bench-a-1', 'bench-b-1')").fetchone()
        ordered = conn.execute(
            "SELECT coalesce(sum(a.quantity), 0) FROM orders_allocation a WHERE a.released_at IS NULL AND a.shipped_at IS NULL"
        ).fetchone()[0]
        negative = conn.execute("SELECT count(*) FROM catalog_stock WHERE reserved > quantity OR quantity < 0").fetchone()[0]
    seq_whole = [w for w, _c in sequential]
    seq_complete = [c for _w, c in sequential]
    print(f"\nCheckout flow benchmark ({server.describe}, PostgreSQL, stripe-mock), 2 vendors per cart, 5 requests per flow")
    print(f"{'measure':<44}{'figure':>18}   target")
    print(f"{'whole flow p50, 1 client':<44}{statistics.median(seq_whole):>15.1f} ms   p50 <= 200 ms")
    print(f"{'whole flow p95, 1 client':<44}{percentile(seq_whole, 95):>15.1f} ms")
    print(f"{'checkoutComplete (+PaymentIntent) p50':<44}{statistics.median(seq_complete):>15.1f} ms")
    print(f"{f'orders/s at {args.clients} clients':<44}{len(whole) / elapsed:>18.1f}   >= 50 orders/s")
    if whole:
        print(f"{f'whole flow p50 / p95 at {args.clients} clients':<44}{statistics.median(whole):>9.0f} / {percentile(whole, 95):.0f} ms")
        print(f"{f'complete p95 at {args.clients} clients':<44}{percentile(completes, 95):>15.1f} ms")
    sold_out = sum("OUT_OF_STOCK" in e for e in errors)
    print(f"{'failed flows (sold out)':<44}{len(errors) - sold_out:>12} ({sold_out})")
    print(f"{'oversell (reserved != ordered, or > stock)':<44}{('none' if reserved == ordered and not negative else 'YES'):>18}   0 oversell")
    print(f"  reserved={reserved} ordered={ordered} stock={quantity}")
    print(f"load average (1 min) at start / end of the concurrent phase: {load_start:.2f} / {load_end:.2f}")
    if errors:
        print("first errors:", *errors[:3], sep="\n  ")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "clients": args.clients, "workers": args.workers, "orders_per_s": len(whole) / elapsed,
            "flow_p50_1_client": statistics.median(seq_whole), "complete_p50_1_client": statistics.median(seq_complete),
            "failed": len(errors) - sold_out, "sold_out": sold_out, "stock": args.stock, "oversell": not (reserved == ordered and not negative),
            "load_start": load_start, "load_end": load_end}, indent=1))


if __name__ == "__main__":
    main()
