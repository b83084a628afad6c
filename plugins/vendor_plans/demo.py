"""Demo data: every demo vendor on a plan, in a realistic state, through the public API.

Subscriptions are linked as if they existed at Stripe (`subscriptions.adopt`), and their
state comes from Stripe-shaped billing events applied exactly once through the payments
core (`marketplace.plugins.payments.deliver_event`), the very path a signed webhook
takes: no network, so `make run` needs no Stripe. Times are relative to the engine clock
when the demo is loaded. Idempotent: fixed subscription and event ids, so a second run
changes nothing. Turns `require_plan` on: on the demo platform a storefront needs a plan.

| vendor | state |
| --- | --- |
| parts vendors | active, paid by card (jingcheng), by invoice with Alipay/WeChat Pay (shilihe), cancelling at period end (zhongguancun), past due in its grace days (yizhuang), active but suspended by platform staff (chegongzhuang) |
| repair shops | in their free year (wangjing, tongzhou; lugu's ends in 25 days), applied with a plan asked for (huilongguan: pending) |
| dealers | free year (fangzhuang, sijiqing), second year paid by card after the trial (beiyuan) |
"""
from datetime import timedelta

from marketplace.plugins import clock, get_settings
from marketplace.plugins.payments import GatewayEventData, deliver_event
from marketplace.plugins.vendors import vendor_infos

DAY = timedelta(days=1)
YEAR = timedelta(days=365)


def _ts(value):
    return int(value.timestamp())


class _Demo:
    def __init__(self, slug, sub, plan):
        self.slug, self.sub, self.plan, self.count = slug, sub, plan, 0

    def _deliver(self, event_type, obj, created):
        self.count += 1
        event_id = f"evt_demo_{self.slug}_{self.count}"
        payload = {"id": event_id, "object": "event", "type": event_type, "created": _ts(created),
                   "livemode": False, "data": {"object": obj}}
        deliver_event("stripe", GatewayEventData(event_id=event_id, type=event_type, payload=payload,
                                                 created=created.replace(microsecond=0)))

    def _metadata(self):
        return {"vendor_id": str(self.sub.vendor_id), "vendor_subscription": str(self.sub.pk),
                "vendor_plan": self.plan.code}

    def subscription(self, kind, status, created, period, trial_end=None, cancel_at_period_end=False,
                     collection="charge_automatically"):
        self._deliver(f"customer.subscription.{kind}", {
            "id": self.sub.subscription_id, "object": "subscription", "customer": self.sub.customer_id,
            "status": status, "collection_method": collection, "cancel_at_period_end": cancel_at_period_end,
            "trial_end": _ts(trial_end) if trial_end else None, "metadata": self._metadata(),
            "items": {"object": "list", "data": [{
                "id": f"si_demo_{self.slug}", "object": "subscription_item", "quantity": 1,
                "current_period_start": _ts(period[0]), "current_period_end": _ts(period[1]),
                "price": {"id": self.plan.gateway_price_id or f"price_demo_{self.plan.code}",
                          "product": self.plan.product_key, "currency": self.plan.currency.lower(),
                          "unit_amount": int(self.plan.amount * 100)}}]},
        }, created)

    def invoice(self, kind, number, created, period, amount=None, attempt_count=0, next_attempt=None,
                collection="charge_automatically"):
        amount = int((self.plan.amount if amount is None else amount) * 100)
        paid = kind == "paid"
        invoice_id = f"in_demo_{self.slug}_{number}"
        self._deliver(f"invoice.{kind}", {
            "id": invoice_id, "object": "invoice", "customer": self.sub.customer_id,
            "currency": self.plan.currency.lower(), "status": "paid" if paid else "open", "amount_due": amount,
            "amount_paid": amount if paid else 0, "attempt_count": attempt_count,
            "next_payment_attempt": _ts(next_attempt) if next_attempt else None, "collection_method": collection,
            "number": f"DEMO-{self.slug[:8].upper()}-{number}", "billing_reason": "subscription_cycle",
            "hosted_invoice_url": f"https://invoice.stripe.com/i/{invoice_id}",
            "parent": {"type": "subscription_details",
                       "subscription_details": {"subscription": self.sub.subscription_id,
                                                "metadata": self._metadata()}},
            "lines": {"object": "list", "data": [{
                "id": f"il_{invoice_id}", "object": "line_item", "amount": amount,
                "currency": self.plan.currency.lower(),
                "period": {"start": _ts(period[0]), "end": _ts(period[1])},
                "pricing": {"type": "price_details", "price_details": {"price": self.plan.gateway_price_id,
                                                                        "product": self.plan.product_key}}}]},
        }, created)


def _card_year(demo, start):
    demo.subscription("created", "active", start, (start, start + YEAR))
    demo.invoice("paid", 1, start, (start, start + YEAR))


def _trial(demo, start, trial_end):
    demo.subscription("created", "trialing", start, (start, trial_end), trial_end=trial_end)
    demo.invoice("paid", 0, start, (start, trial_end), amount=0)


def scenarios(now):
    """{vendor slug: (plan code, payment method, function(demo))}."""

    def jingcheng(d):
        _card_year(d, now - 200 * DAY)

    def shilihe(d):
        start = now - 100 * DAY
        d.subscription("created", "active", start, (start, start + YEAR), collection="send_invoice")
        d.invoice("finalized", 1, start, (start, start + YEAR), collection="send_invoice")
        d.invoice("paid", 1, start + 2 * DAY, (start, start + YEAR), collection="send_invoice")

    def zhongguancun(d):
        start = now - 300 * DAY
        _card_year(d, start)
        d.subscription("updated", "active", now - 10 * DAY, (start, start + YEAR), cancel_at_period_end=True)

    def yizhuang(d):
        start, renewal = now - 368 * DAY, now - 3 * DAY
        _card_year(d, start)
        d.invoice("payment_failed", 2, renewal, (renewal, renewal + YEAR), attempt_count=1,
                  next_attempt=now + 2 * DAY)
        d.subscription("updated", "past_due", renewal + timedelta(seconds=1), (renewal, renewal + YEAR))

    def chegongzhuang(d):
        _card_year(d, now - 150 * DAY)

    def trial(days_used):
        def run(d):
            start = now - days_used * DAY
            _trial(d, start, start + YEAR)
        return run

    def beiyuan(d):
        start, paid_from = now - 400 * DAY, now - 35 * DAY
        _trial(d, start, paid_from)
        d.subscription("updated", "active", paid_from, (paid_from, paid_from + YEAR), trial_end=paid_from)
        d.invoice("paid", 1, paid_from, (paid_from, paid_from + YEAR))

    return {
        "jingcheng-auto-parts": ("storefront_yearly", "card", jingcheng),
        "shilihe-auto-parts": ("storefront_yearly", "wallet", shilihe),
        "zhongguancun-car-parts": ("storefront_yearly", "card", zhongguancun),
        "yizhuang-tyre-battery": ("storefront_yearly", "card", yizhuang),
        "chegongzhuang-auto-parts": ("storefront_yearly", "card", chegongzhuang),
        "wangjing-quick-service": ("shop_yearly", "card", trial(165)),
        "lugu-auto-repair": ("shop_yearly", "card", trial(340)),
        "tongzhou-brake-centre": ("shop_yearly", "card", trial(65)),
        "huilongguan-auto-care": ("shop_yearly", "card", None),  # applied: asked, not confirmed
        "fangzhuang-volkswagen": ("dealer_yearly", "card", trial(245)),
        "beiyuan-toyota": ("dealer_yearly", "card", beiyuan),
        "sijiqing-byd": ("dealer_yearly", "card", trial(305)),
    }


def load(stdout=None):
    """Put every demo vendor on a plan (idempotent). Returns the number linked now."""
    from marketplace.plugins.services import update_plugin

    from . import subscriptions
    from .enforcement import sync_vendors
    from .models import Plan, VendorSubscription
    from .plans import seed

    seed()
    plans = {p.code: p for p in Plan.objects.all()}
    now = clock.now().replace(microsecond=0)
    vendors = {v.slug: v for v in vendor_infos()}
    linked = 0
    for slug, (plan_code, method, run) in scenarios(now).items():
        vendor = vendors.get(slug)
        if vendor is None or plan_code not in plans:
            continue
        sub_id = f"sub_demo_{slug}"
        if VendorSubscription.objects.filter(subscription_id=sub_id).exists():
            continue
        sub = subscriptions.adopt(vendor.vendor_id, plan_code, f"cus_demo_{slug}", sub_id, payment_method=method)
        linked += 1
        if run is not None:
            run(_Demo(slug, sub, plans[plan_code]))
    if not get_settings("vendor_plans").require_plan:
        update_plugin("vendor_plans", settings={"require_plan": True})
    sync_vendors()
    if stdout is not None:
        states = {}
        ids = [vendors[slug].vendor_id for slug in scenarios(now) if slug in vendors]
        for sub in VendorSubscription.objects.filter(vendor_id__in=ids, ended=False):
            states[sub.status] = states.get(sub.status, 0) + 1
        summary = ", ".join(f"{n} {status}" for status, n in sorted(states.items()))
        stdout.write(f"vendor_plans: every demo vendor on a plan ({summary}); a storefront needs a plan "
                     f"(require_plan on).\n")
    return linked
