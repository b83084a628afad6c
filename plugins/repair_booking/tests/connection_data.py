"""Rows for the engine's test that every connection keeps a constant number of queries
(tests/test_query_counts.py): bookings for the querying staff user (`myRepairBookings`,
`repairBookings`) and tows (`towRequests`), at a repair shop made here."""


def create(count, users, vendors):
    from datetime import datetime, timedelta, timezone
    from decimal import Decimal

    from marketplace.plugins.testing import make_vendor
    from plugins.repair_booking.models import RepairBay, RepairBooking, RepairExtraWork, TowRequest
    from plugins.repair_booking.services import setup

    vendor = make_vendor("query-count-garage", kind="repair_shop", latitude="39.9", longitude="116.4")
    shop = setup.save_shop(vendor.pk, {"labour_rate": "100"})
    bay = RepairBay.objects.create(shop=shop, name="1")
    staff = next(u for u in users if u.is_staff)
    start = datetime(2031, 1, 6, 2, 0, tzinfo=timezone.utc)
    for number in range(count):
        booking = RepairBooking.objects.create(
            shop=shop, bay=bay, user=staff, email=staff.email, start=start + timedelta(hours=number),
            end=start + timedelta(hours=number, minutes=30), order_id=number + 1, vendor_order_id=number + 1,
            order_number=f"QC{number}", labour_amount=Decimal("50.00"))
        RepairExtraWork.objects.create(booking=booking, description="extra", labour_hours=Decimal("1"),
                                       labour_rate=Decimal("100"))
        TowRequest.objects.create(user=users[number % len(users)], shop=shop, pickup_lat=Decimal("39.9"),
                                  pickup_lon=Decimal("116.4"), distance_km=Decimal("5"), list_amount=Decimal("190"),
                                  paid_amount=Decimal("190"), status="delivered", requested_at=start)
