#!/usr/bin/env python
"""Benchmark: the store loyalty plugin (plugins/vip_tiers). Prints two sets of figures next
to the targets of /work/shared/TARGETS.md. Not a test: nothing here fails a build.

    eval "$(python3 scripts/localservices.py env)"
    python bench/loyalty.py                      # first run: + a few minutes to build the data
    python bench/loyalty.py --customers 10000 --segments 20 --products 100000

1. Segments: one store (the demo's jingcheng-auto-parts) with --customers customers
   (default 10,000), each with 1-4 paid sub-orders over the last 400 days (some refunded
   in part), a default address in one of Beijing's districts, a garage car for about a
   third, a platform membership for about a fifth, and a points balance. --segments (20)
   rules over every fact (spend and order windows, recency, tier, points, cashback,
   membership, garage vehicle, district, nested any/not). Timed in-process on
   PostgreSQL, DEBUG off: the full recomputation of all the store's segments (first run,
   which writes every member; then a run with nothing to change), one customer's
   incremental refresh, the monthly tier review of all customers, and the ledger check.
   Target: 10,000 customers x 20 segments < 60 s.
2. The listing with tier prices on, served by gunicorn as `make serve` runs it
   (bench/listing.py's server and clients): the first 50 products of the VIP store, as
   an anonymous shopper, as the demo member (Gold at that store: 5 % off stacking on the
   member price) and as a signed-in customer without a tier there, interleaved so machine
   noise hits all three alike; plus the SQL queries per page size (10 / 50 / 100).
   Targets: the listing SQL budget (<= 12 queries, the same for every page size) and the
   member/VIP listing p50 within 20 % of the anonymous one.

The data live in their own database (`marketplace_bench_loyalty` next to $DATABASE_URL's),
created, migrated and filled once (idempotent); later runs go straight to measuring.
"""
import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from listing import (  # noqa: E402
    DEMO_MEMBER, DEMO_PASSWORD, LISTING, Client, Server, body, check, ensure_database, interleaved, log, percentile,
    pg_connect, prepare_data, server_env, setup_env, sign_in, with_database,
)

ROOT = Path(__file__).resolve().parent.parent
STORE = "jingcheng-auto-parts"
PLAIN = "bench.plain@loyalty.bench"  # signed in, no membership, no tier at the store
MEMBER_ONLY = "bench.member@loyalty.bench"  # a platform member without a tier at the store
DISTRICTS = ["朝阳区", "海淀区", "东城区", "西城区", "丰台区", "石景山区", "通州区", "昌平区", "大兴区", "顺义区"]
VIP_LISTING = LISTING.replace("products(first: $first)", "products(first: $first, filter: {vendors: [$vendor]})") \
    .replace("query Listing($first: Int!)", "query Listing($first: Int!, $vendor: ID!)")


def segment_rules(count):
    """`count` rules over every fact, cycling through these shapes."""
    shapes = [
        {"fact": "net_spend", "op": "gte", "value": "500", "days": 180},
        {"all": [{"fact": "net_spend", "op": "gte", "value": "500", "days": 180},
                 {"fact": "vehicle", "op": "has", "value": {"make": "toyota"}}]},
        {"fact": "order_count", "op": "gte", "value": 3, "days": 365},
        {"fact": "last_order_days", "op": "gt", "value": 90},
        {"all": [{"fact": "last_order_days", "op": "gt", "value": 60}, {"fact": "points", "op": "gte", "value": 500}]},
        {"fact": "tier", "op": "gte", "value": 2},
        {"fact": "tier", "op": "in", "value": [0, 1]},
        {"fact": "member", "op": "eq", "value": True},
        {"all": [{"fact": "member", "op": "eq", "value": False},
                 {"fact": "net_spend", "op": "gte", "value": "1500", "days": 365}]},
        {"fact": "district", "op": "in", "value": ["朝阳区", "海淀区"]},
        {"any": [{"fact": "district", "op": "eq", "value": "通州区"}, {"fact": "city", "op": "ne", "value": "北京市"}]},
        {"fact": "points", "op": "gte", "value": 1000},
        {"fact": "cashback", "op": "gt", "value": "0"},
        {"not": {"fact": "vehicle", "op": "has", "value": {"make": "volkswagen"}}},
        {"fact": "net_spend", "op": "lt", "value": "200", "days": 30},
        {"all": [{"fact": "order_count", "op": "eq", "value": 1, "days": 90},
                 {"fact": "district", "op": "ne", "value": "朝阳区"}]},
        {"any": [{"fact": "tier", "op": "eq", "value": 3}, {"fact": "points", "op": "gt", "value": 2500}]},
        {"all": [{"fact": "vehicle", "op": "has", "value": {"make": "toyota", "model": "corolla", "year_from": 2015}},
                 {"fact": "member", "op": "eq", "value": True}]},
        {"fact": "net_spend", "op": "gte", "value": "3000", "days": 365},
        {"all": [{"fact": "last_order_days", "op": "lte", "value": 30}, {"fact": "order_count", "op": "gte",
                                                                            "value": 2, "days": 365}]},
    ]
    return [shapes[i % len(shapes)] for i in range(count)]


# -- data -----------------------------------------------------------------------------------------
def build_customers(store_id, count, seed=2026):
    """Customers with paid sub-orders, addresses, garage cars, memberships and points
    (bulk inserts; idempotent: tops up to `count`)."""
    import uuid
    from datetime import timedelta
    from decimal import Decimal

    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from marketplace.accounts.models import Address, User
    from marketplace.core import clock
    from marketplace.orders.models import Order, VendorOrder
    from plugins.membership.models import Membership, MembershipPlan
    from plugins.parts_storefront.models import GarageVehicle, Vehicle
    from plugins.vip_tiers.models import VipAccount, VipEntry, VipLot

    existing = User.objects.filter(email__startswith="customer", email__endswith="@loyalty.bench").count()
    now = clock.now()
    plan = MembershipPlan.objects.filter(code="annual").first()
    for email in (PLAIN, MEMBER_ONLY):
        User.objects.filter(email=email, email_confirmed_at__isnull=True).update(email_confirmed_at=now)
        if not User.objects.filter(email=email).exists():
            user = User.objects.create(email=email, password=make_password(DEMO_PASSWORD), email_confirmed_at=now)
            if email == MEMBER_ONLY and plan is not None:
                Membership.objects.create(user=user, plan=plan, status="active", source="grant", reason="bench",
                                          starts_at=now - timedelta(days=30), ends_at=now + timedelta(days=335))
    if existing >= count:
        return existing, 0.0
    rng = random.Random(seed + existing)
    started = time.perf_counter()
    vehicles = list(Vehicle.objects.select_related("model").values_list("pk", "year_from", "year_to"))
    with transaction.atomic():
        users = User.objects.bulk_create([User(email=f"customer{i:06d}@loyalty.bench", password="!", first_name="客户",
                                               last_name=str(i)) for i in range(existing, count)], batch_size=2000)
        Address.objects.bulk_create([Address(user=u, full_name=f"客户{u.pk}", phone=f"139{u.pk:08d}"[-11:],
                                             province="北京市", city="北京市", district=rng.choice(DISTRICTS),
                                             street="测试路1号", is_default=True) for u in users], batch_size=2000)
        orders, vendor_orders = [], []
        for user in users:
            for j in range(rng.randint(1, 4)):
                goods = Decimal(rng.randint(50, 3000)).quantize(Decimal("0.01"))
                paid = now - timedelta(days=rng.uniform(0, 400))
                orders.append(Order(number=f"LB{user.pk:07d}{j}", user=user, email=user.email, status="completed",
                                    subtotal=goods, shipping_total=Decimal("0"), total=goods,
                                    checkout_token=uuid.uuid4(), paid_at=paid, completed_at=paid))
        Order.objects.bulk_create(orders, batch_size=2000)
        for order in orders:
            refunded = (order.total * Decimal("0.3")).quantize(Decimal("0.01")) if rng.random() < 0.08 else 0
            vendor_orders.append(VendorOrder(order=order, vendor_id=store_id, status="completed", subtotal=order.total,
                                             shipping=0, total=order.total, refunded=refunded,
                                             commission_rate=Decimal("0.05")))
        VendorOrder.objects.bulk_create(vendor_orders, batch_size=2000)
        if vehicles:
            GarageVehicle.objects.bulk_create([
                GarageVehicle(user=u, vehicle_id=v[0], year=rng.randint(v[1], v[2]), is_default=True)
                for u in users if rng.random() < 0.35 for v in [rng.choice(vehicles)]], batch_size=2000)
        if plan is not None:
            Membership.objects.bulk_create([
                Membership(user=u, plan=plan, status="active", source="grant", starts_at=now - timedelta(days=30),
                           ends_at=now + timedelta(days=335), reason="bench")
                for u in users if rng.random() < 0.2], batch_size=2000)
        accounts = VipAccount.objects.bulk_create([VipAccount(vendor_id=store_id, user=u, created_at=now,
                                                              updated_at=now) for u in users],
                                                  batch_size=2000, ignore_conflicts=True)
        accounts = list(VipAccount.objects.filter(vendor_id=store_id, user__in=users))
        lots, entries = [], []
        for account in accounts:
            points = rng.choice([0, 0, 120, 480, 900, 1500, 3200])
            cashback = Decimal(rng.choice([0, 0, 0, 5, 12, 30])).quantize(Decimal("0.01"))
            for asset, amount in (("points", Decimal(points)), ("cashback", cashback)):
                if not amount:
                    continue
                key = f"bench:{asset}:{account.pk}"
                lots.append(VipLot(account=account, asset=asset, key=key, amount=amount, remaining=amount,
                                   available_at=now, expires_at=now + timedelta(days=300)))
                entries.append(VipEntry(account=account, asset=asset, bucket="available", kind="adjust",
                                        amount=amount, key=key, memo="bench", created_at=now))
            account.points_available, account.cashback_available = points, cashback
        VipLot.objects.bulk_create(lots, batch_size=2000)
        VipEntry.objects.bulk_create(entries, batch_size=2000)
        VipAccount.objects.bulk_update(accounts, ["points_available", "cashback_available"], batch_size=2000)
    return count, time.perf_counter() - started


def segment_figures(database_url, customers, segments_wanted):
    os.environ.update(setup_env(database_url))
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection

    from marketplace.plugins.manager import configuration_scope
    from plugins.vip_tiers.models import Segment, SegmentMember, VipProgram
    from plugins.vip_tiers.services import integrity, segments, tiers

    program = VipProgram.objects.select_related("vendor").filter(vendor__slug=STORE, enabled=True).first()
    if program is None:
        sys.exit(f"The demo store {STORE} has no VIP programme: run `manage.py populatedb` on the bench database.")
    store_id = program.vendor_id
    total, built = build_customers(store_id, customers)
    log(f"{total} bench customers ({built:.1f} s to add the new ones)")
    Segment.objects.filter(vendor_id=store_id, name__startswith="bench ").delete()
    from marketplace.core import clock

    now = clock.now()
    Segment.objects.bulk_create([Segment(vendor_id=store_id, name=f"bench {i:02d}", rule=rule, created_at=now,
                                         updated_at=now) for i, rule in enumerate(segment_rules(segments_wanted))])
    ids = list(Segment.objects.filter(vendor_id=store_id, name__startswith="bench ").values_list("pk", flat=True))
    out = {"customers": total}
    with configuration_scope():
        began = time.perf_counter()
        review = tiers.review(store_id)
        out["review_s"], out["review"] = time.perf_counter() - began, review
        timings = []
        for label in ("first", "again"):
            began = time.perf_counter()
            counts = segments.recompute(store_id, ids)
            timings.append(time.perf_counter() - began)
            out[f"members_{label}"] = sum(counts.values())
        out["recompute_first_s"], out["recompute_again_s"] = timings
        out["segments"] = len(ids)
        out["universe"] = len(segments.facts.gather(store_id, set()).universe)
        sample = list(SegmentMember.objects.filter(segment_id__in=ids).values_list("user_id", flat=True)
                      .distinct()[:20])
        refresh = []
        for user_id in sample:
            began = time.perf_counter()
            segments.refresh_customer(store_id, user_id)
            refresh.append((time.perf_counter() - began) * 1000)
        out["refresh_ms"] = {"p50": percentile(refresh, 50), "p95": percentile(refresh, 95)} if refresh else None
        began = time.perf_counter()
        checked, mismatches = integrity.check(store_id)
        out["check_s"], out["checked"], out["mismatches"] = time.perf_counter() - began, checked, len(mismatches)
    connection.close()
    return out


# -- listing --------------------------------------------------------------------------------------------
def listing_figures(database_url, args):
    import subprocess

    env = server_env(database_url)
    store_gid = vendor_gid(database_url)
    server = Server(env, args.workers, args.threads, "gthread")
    out = {"server": server.describe}
    try:
        server.wait()
        anonymous = Client(server.port)
        signed = {}
        for email in (DEMO_MEMBER, MEMBER_ONLY, PLAIN):
            token = sign_in(anonymous, email)
            if not token:
                raise RuntimeError(f"could not sign in as {email}")
            signed[email] = Client(server.port, token)
        vip, member, plain = signed[DEMO_MEMBER], signed[MEMBER_ONLY], signed[PLAIN]
        payload = body(VIP_LISTING, {"first": 50, "vendor": store_gid})
        page = check(*vip.post(payload), "VIP listing")
        out["vip_sources"] = sorted({a["source"] for e in page["products"]["edges"] for v in e["node"]["variants"]
                                     for a in v["price"]["adjustments"]})
        out["interleaved"] = interleaved({"anonymous": anonymous, "plain": plain, "member": member, "vip": vip},
                                         payload, args.requests, args.warmup)
        tokens = {"vip": vip.headers.get("Authorization"), "member": member.headers.get("Authorization"),
                  "plain": plain.headers.get("Authorization")}
        for client in (anonymous, vip, member, plain):
            client.close()
    finally:
        server.stop()
    script = (f"import json, sys; sys.path.insert(0, {str(ROOT)!r}); sys.path.insert(0, {str(Path(__file__).parent)!r});"
              "from loyalty import count_queries; "
              f"print(json.dumps(count_queries({store_gid!r}, {json.dumps(tokens)!r})))")
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, check=True, capture_output=True,
                            text=True)
    out["queries"] = json.loads(result.stdout.strip().splitlines()[-1])
    return out


def vendor_gid(database_url):
    import base64

    with pg_connect(database_url) as conn:
        pk = conn.execute("SELECT id FROM vendors_vendor WHERE slug = %s", [STORE]).fetchone()[0]
    return base64.b64encode(f"Vendor:{pk}".encode()).decode()


def count_queries(store_gid, tokens_json):
    """SQL statements per listing page size, in-process (called in a subprocess with the
    server's environment): {who: {size: (statements, reads)}}."""
    import django

    django.setup()
    from django.db import connection
    from django.test import Client as DjangoClient
    from django.test.utils import CaptureQueriesContext

    client = DjangoClient()
    tokens = json.loads(tokens_json)
    out = {}
    for who, header in (("anonymous", None), ("plain", tokens["plain"]), ("member", tokens["member"]),
                        ("vip", tokens["vip"])):
        extra = {"HTTP_AUTHORIZATION": header} if header else {}
        client.post("/graphql/", body(VIP_LISTING, {"first": 50, "vendor": store_gid}),
                    content_type="application/json", **extra)  # warm
        out[who] = {}
        for size in (10, 50, 100):
            with CaptureQueriesContext(connection) as ctx:
                response = client.post("/graphql/", body(VIP_LISTING, {"first": size, "vendor": store_gid}),
                                       content_type="application/json", **extra)
            check(response.status_code, response.content, f"{who} listing")
            out[who][size] = (len(ctx.captured_queries),
                              sum(1 for q in ctx.captured_queries if q["sql"].startswith("SELECT")))
    return out


# -- report --------------------------------------------------------------------------------------------------
def report(meta, seg, lst):
    rows = []
    total = seg["recompute_first_s"]
    rows.append((f"segments: {seg['customers']:,} customers x {seg['segments']} segments, full recompute "
                 f"(first run, {seg['members_first']:,} memberships written)", f"{total:.1f} s", "< 60 s",
                 "ok" if total < 60 else "MISSED"))
    rows.append(("segments: the same again (nothing to change)", f"{seg['recompute_again_s']:.1f} s", "< 60 s",
                 "ok" if seg["recompute_again_s"] < 60 else "MISSED"))
    if seg["refresh_ms"]:
        rows.append(("segments: one customer's refresh after an order event (p50 / p95)",
                     f"{seg['refresh_ms']['p50']:.1f} / {seg['refresh_ms']['p95']:.1f} ms", "", ""))
    rows.append((f"tier review of {seg['review']['customers']:,} customers ({seg['review']['up']} up, "
                 f"{seg['review']['down']} down)", f"{seg['review_s']:.1f} s", "", ""))
    rows.append((f"ledger check of {seg['checked']:,} accounts", f"{seg['check_s']:.2f} s, {seg['mismatches']} "
                 "mismatches", "0 mismatches", "ok" if not seg["mismatches"] else "MISSED"))
    figures = lst["interleaved"]
    base = figures["anonymous"]["p50"]
    for who, label in (("anonymous", "anonymous"), ("plain", "a signed-in customer (no membership, no tier)"),
                       ("member", "a platform member without a tier here"),
                       ("vip", "the demo member (membership + Gold here)")):
        f = figures[who]
        slower = (f["p50"] / base - 1) * 100 if base else float("nan")
        target, verdict = ("", "") if who == "anonymous" else ("p50 within 20% of anonymous",
                                                               "ok" if f["p50"] <= base * 1.2 else "MISSED")
        rows.append((f"VIP store listing first:50 as {label}, p50 / p95",
                     f"{f['p50']:.1f} / {f['p95']:.1f} ms" + ("" if who == "anonymous" else f" ({slower:+.0f}%)"),
                     target, verdict))
    vip_cost = figures["vip"]["p50"] - figures["member"]["p50"]
    rows.append(("  of which tier prices (VIP member p50 - member-only p50)", f"{vip_cost:+.1f} ms", "", ""))
    for who, counts in lst["queries"].items():
        sizes = [counts[str(s)][0] for s in (10, 50, 100)]
        reads = [counts[str(s)][1] for s in (10, 50, 100)]
        rows.append((f"SQL statements per listing as {who} (first 10 / 50 / 100; reads)",
                     " / ".join(map(str, sizes)) + f" ({' / '.join(map(str, reads))})", "<= 12, same for any size",
                     "ok" if max(sizes) <= 12 and len(set(sizes)) == 1 else "MISSED"))
    rows.append(("price adjustments on the VIP member's page", ", ".join(lst["vip_sources"]) or "none", "", ""))
    widths = [max(len(row[i]) for row in rows + [("what", "measured", "target", "")]) for i in range(4)]
    lines = [
        f"Loyalty benchmark - PostgreSQL {meta['pg']}, {meta['products']:,} products, listing served by "
        f"{lst['server']}, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs; segments in-process, DEBUG off",
        f"machine load average (1 min) at start / end: {meta['load_start']:.2f} / {os.getloadavg()[0]:.2f} "
        "(other work on the machine slows every figure)", "",
        "  ".join(h.ljust(w) for h, w in zip(("what", "measured", "target", ""), widths)),
        "  ".join("-" * w for w in widths),
    ]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in rows]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="marketplace_bench_loyalty", help="database name (created if missing)")
    parser.add_argument("--products", type=int, default=100_000, help="synthetic products to make sure exist")
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--segments", type=int, default=20)
    parser.add_argument("--requests", type=int, default=150, help="sequential requests per listing figure")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--skip-listing", action="store_true")
    args = parser.parse_args()
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith(("postgres://", "postgresql://")):
        sys.exit('Needs PostgreSQL: eval "$(python3 scripts/localservices.py env)" first.')
    database_url = with_database(base, args.database)
    ensure_database(with_database(base, "postgres"), args.database)  # the slot's own database may not exist yet
    meta = prepare_data(database_url, args.products)
    meta["load_start"] = os.getloadavg()[0]
    log("segments: building customers and timing")
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(1) as pool:  # a fresh Django for the in-process part
        seg = pool.apply(segment_figures, (database_url, args.customers, args.segments))
    lst = {"interleaved": None}
    if not args.skip_listing:
        log("listing: starting the server and measuring")
        lst = listing_figures(database_url, args)
    print(report(meta, seg, lst) if not args.skip_listing else json.dumps(seg, indent=2, default=str))


if __name__ == "__main__":
    main()
