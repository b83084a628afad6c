"""Messages to a vendor's owner and managers, each sent once per key (e-mail, through a
Celery task after the transaction that decided it commits).

Our own reminders go 30, 7 and 1 days (setting `reminder_days`) before a trial ends and
before each renewal: Stripe's 3-day `trial_will_end` notice is too short for a yearly plan.
Wallet payers (Alipay, WeChat Pay) cannot be charged off-session: they get the invoice to
pay and reminders instead of retries.
"""
from __future__ import annotations

from datetime import timedelta

from celery import current_app
from django.db import IntegrityError, transaction

from marketplace.plugins import clock, get_settings

from .models import Notice, PaymentMethod, Status, VendorSubscription

PLUGIN = "vendor_plans"


def _date(value):
    return clock.localtime(value).strftime("%Y-%m-%d") if value is not None else "-"


def notify(sub, key, kind, subject, body):
    """Record a notice once per `key` and send it after commit. Returns the notice, or None
    when that key was already sent."""
    try:
        with transaction.atomic():
            notice = Notice.objects.create(key=key[:255], subscription=sub, kind=kind, subject=subject[:200],
                                           body=body)
    except IntegrityError:
        return None
    transaction.on_commit(lambda: current_app.tasks["vendor_plans.send_notice"].delay(notice.pk))
    return notice


def _plan_name(sub):
    plan = sub.plan
    return f"{plan.name_zh} / {plan.name_en or plan.code}"


def trial_will_end(sub, trial_end, event_id=""):
    return notify(sub, f"trial_will_end:{sub.pk}:{_date(trial_end)}", "trial_will_end",
                  f"试用即将结束 Your free year ends on {_date(trial_end)}",
                  f"{_plan_name(sub)}: 试用期于 {_date(trial_end)} 结束。请添加支付方式以继续使用店铺。\n"
                  f"Your trial ends on {_date(trial_end)}. Add a payment method to keep your storefront.")


def payment_failed(sub, invoice, attempt_count, next_attempt, final):
    if final:
        return notify(sub, f"payment_final:{invoice.invoice_id}", "payment_final",
                      "最后通知：年费未能支付 Final notice: your plan fee could not be collected",
                      f"发票 {invoice.number or invoice.invoice_id} 未能支付，且不会再自动重试。请更新银行卡或支付发票。\n"
                      f"Invoice {invoice.number or invoice.invoice_id} could not be paid and will not be retried. "
                      f"Update your card or pay it: {invoice.hosted_invoice_url or '(see your dashboard)'}")
    return notify(sub, f"payment_failed:{invoice.invoice_id}:{attempt_count}", "payment_failed",
                  f"支付失败（第 {attempt_count} 次） Payment failed (attempt {attempt_count})",
                  f"发票 {invoice.number or invoice.invoice_id} 支付失败，将于 {_date(next_attempt)} 重试。\n"
                  f"Invoice {invoice.number or invoice.invoice_id} failed (attempt {attempt_count}); the next "
                  f"attempt is on {_date(next_attempt)}. Your storefront stays open until {_date(sub.grace_until)}.")


def action_required(sub, invoice):
    return notify(sub, f"action_required:{invoice.invoice_id}", "action_required",
                  "需要验证支付 Your payment needs confirmation",
                  f"请完成银行验证（3-D Secure）/ Confirm the payment with your bank: "
                  f"{invoice.hosted_invoice_url or '(see your dashboard)'}")


def invoice_to_pay(sub, invoice):
    """A wallet payer's invoice: pay it on the hosted page (Alipay, WeChat Pay)."""
    return notify(sub, f"invoice_to_pay:{invoice.invoice_id}", "invoice_to_pay",
                  f"请支付年费发票 Please pay invoice {invoice.number or invoice.invoice_id}",
                  f"应付 {invoice.amount_due} {invoice.currency}，请于 {_date(invoice.due_date)} 前支付。\n"
                  f"{invoice.amount_due} {invoice.currency} due by {_date(invoice.due_date)}; pay with Alipay or "
                  f"WeChat Pay: {invoice.hosted_invoice_url or '(see your dashboard)'}")


def quota_exceeded(sub, used, limit, deadline):
    return notify(sub, f"quota:{sub.pk}:{_date(clock.now())}", "quota_exceeded",
                  f"商品数超出套餐上限 {used}/{limit} You list more products than your plan allows",
                  f"您的套餐最多可上架 {limit} 个商品，目前 {used} 个。请在 {_date(deadline)} 前选择保留的商品，"
                  f"否则最新上架的超出部分将被下架（不会删除）。\n"
                  f"Your plan allows {limit} published products; you have {used}. Choose which stay published by "
                  f"{_date(deadline)}; after that the newest above the limit are unpublished (never deleted).")


def quota_enforced(sub, count, limit):
    return notify(sub, f"quota_enforced:{sub.pk}:{_date(clock.now())}", "quota_enforced",
                  f"已下架 {count} 个超出上限的商品 {count} products were unpublished",
                  f"已下架最新的 {count} 个商品（保留为草稿），以符合 {limit} 个的上限。\n"
                  f"The newest {count} products were unpublished (kept as drafts) to meet your limit of {limit}.")


def _reminder(sub, kind, target, days):
    wallet = sub.payment_method == PaymentMethod.WALLET
    if kind == "trial_end":
        subject = f"试用将于 {days} 天后结束 Your free year ends in {days} day(s)"
        body = (f"{_plan_name(sub)}: 试用期于 {_date(target)} 结束。\nYour trial ends on {_date(target)}. "
                + ("You will receive an invoice to pay with Alipay or WeChat Pay." if wallet else
                   "Add a card to continue; without one the plan pauses (no new listings)."))
    else:
        subject = f"套餐将于 {days} 天后续费 Your plan renews in {days} day(s)"
        body = (f"{_plan_name(sub)}: 将于 {_date(target)} 续费 {sub.plan.amount} {sub.plan.currency}。\n"
                f"Your plan renews on {_date(target)} for {sub.plan.amount} {sub.plan.currency}. "
                + ("You will receive an invoice to pay with Alipay or WeChat Pay." if wallet else
                   "Your saved card will be charged."))
    return notify(sub, f"reminder:{sub.pk}:{kind}:{target.isoformat()}:{days}", f"reminder_{kind}", subject, body)


def _lead(days, now, target):
    """The most urgent lead time reached (of `days`, ascending), or None."""
    return next((d for d in days if target - now <= timedelta(days=d)), None)


def _invoice_due(sub, invoice, days):
    return notify(sub, f"invoice_due:{invoice.invoice_id}:{days}", "invoice_due",
                  f"发票将于 {days} 天内到期 Invoice {invoice.number or invoice.invoice_id} is due in {days} day(s)",
                  f"请于 {_date(invoice.due_date)} 前支付 {invoice.amount_due} {invoice.currency}。\n"
                  f"Pay {invoice.amount_due} {invoice.currency} by {_date(invoice.due_date)} with Alipay or WeChat "
                  f"Pay: {invoice.hosted_invoice_url or '(see your dashboard)'}")


def send_reminders(now=None):
    """Our reminders before trial end and renewal: for each open subscription and each
    date, the most urgent lead time (of `reminder_days`) reached, once. A run that missed
    the 30-day mark sends the 7-day reminder only when 7 days remain. Wallet payers'
    open invoices are reminded the same way before their due date (no retries can
    charge them). Returns how many were queued."""
    from .models import BillingInvoice

    now = now or clock.now()
    days = sorted(get_settings(PLUGIN).reminder_days)
    horizon = now + timedelta(days=max(days))
    subs = (VendorSubscription.objects.filter(ended=False).select_related("plan")
            .filter(status__in=[Status.TRIALING, Status.ACTIVE]))
    sent = 0
    for sub in subs:
        if sub.status == Status.TRIALING:
            kind, target = "trial_end", sub.trial_end
        elif not sub.cancel_at_period_end:
            kind, target = "renewal", sub.current_period_end
        else:
            continue
        if target is None or not now < target <= horizon:
            continue
        with transaction.atomic():
            sent += _reminder(sub, kind, target, _lead(days, now, target)) is not None
    invoices = (BillingInvoice.objects.filter(paid_at=None, voided_at=None, uncollectible_at=None, due_date__gt=now,
                                              due_date__lte=horizon, subscription__ended=False)
                .filter(subscription__payment_method=PaymentMethod.WALLET).select_related("subscription"))
    for invoice in invoices:
        with transaction.atomic():
            sent += _invoice_due(invoice.subscription, invoice, _lead(days, now, invoice.due_date)) is not None
    return sent
