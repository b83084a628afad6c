#!/usr/bin/env python
"""Benchmark: repair-booking slot search and booking throughput, served by gunicorn from
PostgreSQL (make serve's production set). Prints figures next to /work/shared/TARGETS.md.
Not a test.

    eval "$(python3 scripts/localservices.py env)"
    python bench/booking.py [--clients 20] [--seconds 20] [--searches 200]

Set-up (its own database, rebuilt each run): one repair shop with 20 general bays open
08:00-20:00 every day, 30-minute slots, 60-minute brake-pad jobs; a realistic load of
confirmed bookings over the next 30 days (each bay about 60 % booked: jobs of 30 to 120
minutes at random starts) and a few live holds.

1. Slot search: `repairSlots` for that shop and service over 30 days through GraphQL
   (every free start, grouped by day), one client, sequential: p50 / p95.
2. Bookings: `--clients` clients, each repeatedly making an anonymous cart with the
   service and calling `bookingCreate` for a random start within the next `--days` days
   (default 3: a hot window, so the bays fill up and clients collide on the same slots;
   hold, then the normal checkout completion: the order and the confirmed booking in one
   transaction). Prints bookings/s, SLOT_TAKEN answers, and the double-booking count
   (occupying bookings of one bay that overlap, by SQL): it must be 0.
"""
import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from listing import Client, Server, ensure_database, manage, percentile, pg_connect, server_env, setup_env, with_database  # noqa: E402

DB_NAME = "marketplace_bench_booking"
ROOT = Path(__file__).resolve().parent.parent
SETUP = r"""
import random
from datetime import timedelta
from marketplace.accounts.models import User
from marketplace.catalog import services as catalog
from marketplace.core import clock
from marketplace.vendors import services as vendors
from plugins.repair_booking.models import RepairBay, RepairBooking, RepairHold, RepairService, RepairShop
from plugins.repair_booking.services import setup

shop = RepairShop.objects.filter(vendor__slug="bench-garage").first()
if shop is None:
    owner = User.objects.create_user("owner@bench-garage.bench", "x")
    vendor = vendors.approve(vendors.apply(owner, "repair_shop", "bench-garage", {"name_zh": "基准修车厂"}).pk)
    category = catalog.save_category({"name_zh": "维修", "slug": "bench-repair"})
    shop = setup.save_shop(vendor.pk, {"labour_rate": "120", "max_advance_days": 31})
    setup.set_weekly_hours(shop, [{"weekday": d, "intervals": [["08:00", "20:00"]]} for d in range(7)])
    for number in range(20):
        setup.save_bay(shop, {"name": f"bay-{number + 1:02d}"})
    setup.save_service(shop, {"code": "brake-pads", "name_zh": "刹车片更换", "labour_hours": "0.8",
                              "category_id": category.pk})
RepairBooking.objects.filter(shop=shop).delete()
RepairHold.objects.filter(shop=shop).delete()
rng = random.Random(2026)
now = clock.now()
tz = __import__("zoneinfo").ZoneInfo(shop.timezone)
today = now.astimezone(tz).date()
rows = []
for bay in RepairBay.objects.filter(shop=shop):
    for offset in range(31):
        day = today + timedelta(days=offset)
        minute = 8 * 60
        while minute < 20 * 60:
            length = rng.choice((30, 60, 60, 90, 120))
            if rng.random() < 0.6 and minute + length <= 20 * 60:
                start = __import__("datetime").datetime.combine(day, __import__("datetime").time(minute // 60, minute % 60), tzinfo=tz)
                rows.append(RepairBooking(shop=shop, bay=bay, start=start, end=start + timedelta(minutes=length),
                                          status="confirmed", order_id=0, vendor_order_id=0, email="load@bench"))
            minute += length
RepairBooking.objects.bulk_create(rows)
for number in range(10):
    start = now + timedelta(days=rng.randint(1, 20), hours=rng.randint(0, 5))
    RepairHold.objects.create(shop=shop, bay=RepairBay.objects.filter(shop=shop)[number], start=start,
                              end=start + timedelta(hours=1), checkout_token=__import__("uuid").uuid4(),
                              expires_at=now + timedelta(hours=2))
service = RepairService.objects.get(shop=shop, code="brake-pads")
print(f"IDS {shop.vendor_id} {service.pk} {service.variant_id} {len(rows)}")
"""


def gid(type_name, pk):
    import base64

    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


def call(client, query, variables):
    status, data = client.post(json.dumps({"query": query, "variables": variables}))
    result = json.loads(data)
    if status != 200 or result.get("errors"):
        raise RuntimeError(f"HTTP {status}: {data[:300]!r}")
    return result["data"]


SLOTS = """query($s: ID!, $x: [ID!], $f: Date, $t: Date) { repairSlots(shopId: $s, serviceIds: $x, dateFrom: $f,
  dateTo: $t) { durationMinutes firstFree days { date slots { start localTime freeBays } } } }"""
CREATE = """mutation($l: [CheckoutLineInput!]) { checkoutCreate(lines: $l, email: "bench@example.com") {
  checkout { token } errors { code message } } }"""
BOOK = """mutation($t: UUID!, $start: DateTime!) { bookingCreate(token: $t, start: $start) {
  booking { id status } errors { field code message } } }"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--searches", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--days", type=int, default=3, help="bookings go to starts in the next N days")
    args = parser.parse_args()
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith(("postgres://", "postgresql://")):
        sys.exit('Run with the local services: eval "$(python3 scripts/localservices.py env)"')
    database_url = with_database(base, DB_NAME)
    ensure_database(with_database(base, "postgres"), DB_NAME)  # the slot's own database may not exist
    env = setup_env(database_url)
    manage(env, "migrate", "--noinput", "-v", "0")
    out = subprocess.run([sys.executable, "manage.py", "shell", "-v", "0", "-c", SETUP], cwd=ROOT, env=env,
                         check=True, capture_output=True, text=True).stdout
    ids = next(line.split()[1:] for line in out.splitlines() if line.startswith("IDS "))
    vendor_id, service_id, variant_id, load = map(int, ids)
    senv = server_env(database_url)
    senv.update(CELERY_TASK_DEFAULT_QUEUE="bench-booking")
    server = Server(senv, args.workers, args.threads, "gthread", processes="web,worker")
    today = datetime.now(timezone(timedelta(hours=8))).date()
    variables = {"s": gid("Vendor", vendor_id), "x": [gid("RepairService", service_id)], "f": today.isoformat(),
                 "t": (today + timedelta(days=29)).isoformat()}
    try:
        server.wait()
        client = Client(server.port)
        for _ in range(10):
            found = call(client, SLOTS, variables)["repairSlots"]
        offered = sum(len(day["slots"]) for day in found["days"])
        timings = []
        for _ in range(args.searches):
            started = time.perf_counter()
            call(client, SLOTS, variables)
            timings.append((time.perf_counter() - started) * 1000)
        client.close()

        starts = []
        now = datetime.now(timezone.utc)
        for offset in range(args.days + 1):
            day = today + timedelta(days=offset)
            for minute in range(8 * 60, 19 * 60 + 1, 30):
                start = datetime(day.year, day.month, day.day, minute // 60, minute % 60,
                                 tzinfo=timezone(timedelta(hours=8)))
                if start > now + timedelta(hours=3):
                    starts.append(start.isoformat())
        outcomes, errors = {"ok": 0}, []
        lock = threading.Lock()
        stop_at = time.monotonic() + args.seconds

        def worker(seed):
            rng = random.Random(seed)
            own = Client(server.port)
            while time.monotonic() < stop_at:
                try:
                    token = call(own, CREATE, {"l": [{"variantId": gid("ProductVariant", variant_id),
                                                      "quantity": 1}]})["checkoutCreate"]["checkout"]["token"]
                    payload = call(own, BOOK, {"t": token, "start": rng.choice(starts)})["bookingCreate"]
                except Exception as exc:  # counted and reported
                    with lock:
                        errors.append(str(exc)[:200])
                    continue
                code = payload["errors"][0]["code"] if payload["errors"] else "ok"
                with lock:
                    outcomes[code] = outcomes.get(code, 0) + 1
            own.close()

        started = time.monotonic()
        threads = [threading.Thread(target=worker, args=(n,)) for n in range(args.clients)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        elapsed = time.monotonic() - started
    finally:
        server.stop()
    with pg_connect(database_url) as conn:
        overlaps = conn.execute(
            "SELECT count(*) FROM repair_booking_repairbooking a JOIN repair_booking_repairbooking b "
            "ON a.bay_id = b.bay_id AND a.id < b.id AND a.start < b.\"end\" AND b.start < a.\"end\" "
            "WHERE a.status IN ('confirmed', 'checked_in', 'in_service') "
            "AND b.status IN ('confirmed', 'checked_in', 'in_service')").fetchone()[0]
        load_avg = os.getloadavg()
    print(f"\nRepair-booking benchmark ({server.describe}, PostgreSQL)")
    print(f"shop: 20 bays, 08:00-20:00, 30-min slots; {load} bookings over 31 days (~60 % of bay time); "
          f"60-min job; {offered} free starts in 30 days")
    print(f"{'measure':<52}{'figure':>16}   target")
    print(f"{'repairSlots, 30 days, p50 (1 client)':<52}{statistics.median(timings):>13.1f} ms")
    print(f"{'repairSlots, 30 days, p95 (1 client)':<52}{percentile(timings, 95):>13.1f} ms   p95 <= 150 ms")
    made = outcomes.get("ok", 0)
    print(f"{f'bookings/s at {args.clients} clients (bookingCreate)':<52}{made / elapsed:>16.1f}")
    print(f"{f'  over {len(starts)} starts in the next {args.days} days':<52}")
    print(f"{'answers':<52}{json.dumps(outcomes, sort_keys=True):>16}")
    print(f"{'double bookings (overlaps on one bay, SQL)':<52}{overlaps:>16}   0")
    print(f"{'failed requests':<52}{len(errors):>16}")
    print(f"load average: {load_avg[0]:.2f} {load_avg[1]:.2f} {load_avg[2]:.2f}")
    if errors:
        print("first errors:", *errors[:3], sep="\n  ")


if __name__ == "__main__":
    main()
