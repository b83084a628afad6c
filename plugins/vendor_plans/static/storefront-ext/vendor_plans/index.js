// The vendor plans plugin's dashboard page (docs/vendor-plans.md), on the public GraphQL
// API only: /vendor/<id>/plan — the plan and what it grants, access and billing state
// (trial, paid through, grace, past due, pending change, cancelling), the product quota,
// invoices; the owner starts a plan, changes it, cancels or keeps it. Owners and managers.

import {ERROR_FIELDS, mutate} from "sf/core/api.js";
import {field, formErrors, h, onSubmit, showErrors} from "sf/core/dom.js";
import {date, label, money, name, t} from "sf/core/i18n.js";
import {MONEY, empty} from "sf/core/components.js";
import {MANAGERS, frame, requireRole, roleAt} from "sf/pages/vendor/layout.js";

const WORDS = {
  FULL: ["正常", "Full access"], GRACE: ["宽限期", "Grace period"], LIMITED: ["受限", "Limited"], SUSPENDED: ["已暂停", "Suspended"],
  PENDING: ["待开通", "Pending"], FAILED: ["开通失败", "Failed"], INCOMPLETE: ["待付款", "Incomplete"], INCOMPLETE_EXPIRED: ["已过期", "Expired"],
  TRIALING: ["试用中", "Trial"], ACTIVE: ["生效中", "Active"], PAST_DUE: ["逾期", "Past due"], CANCELED: ["已取消", "Cancelled"],
  UNPAID: ["未付款", "Unpaid"], PAUSED: ["已暂停", "Paused"], OPEN: ["待支付", "Open"], PAID: ["已支付", "Paid"], VOID: ["已作废", "Void"],
  UNCOLLECTIBLE: ["无法收款", "Uncollectible"], UPGRADE: ["升级", "Upgrade"], DOWNGRADE: ["降级", "Downgrade"],
  MONTH: ["月", "month"], YEAR: ["年", "year"],
};
const word = (value) => (WORDS[value] ? t(...WORDS[value]) : label(value));
const status = (value) => h("span", {class: `badge badge-${String(value).toLowerCase()}`}, word(value));
const ENTITLEMENTS = "maxProducts booking vipTiers pointsCashback groupBuy commissionRate searchBoost";
const PLAN = `code nameZh nameEn descriptionZh descriptionEn price { ${MONEY} } interval intervalCount trialDays highlight
  entitlements { ${ENTITLEMENTS} }`;

function grants(e) {
  const yes = (v) => (v ? t("有", "yes") : t("无", "no"));
  return h("ul", {class: "plain grants"},
    h("li", {}, t("商品上限 ", "Products: "), e.maxProducts ?? t("不限", "unlimited")),
    h("li", {}, t("佣金 ", "Commission: "), e.commissionRate !== null && e.commissionRate !== undefined ? `${(Number(e.commissionRate) * 100).toFixed(1)}%` : "—"),
    h("li", {}, t("预约 ", "Bookings: "), yes(e.booking), " · ", t("会员等级 ", "VIP tiers: "), yes(e.vipTiers), " · ",
      t("积分返现 ", "Points: "), yes(e.pointsCashback), " · ", t("拼团 ", "Group deals: "), yes(e.groupBuy)));
}

async function act(ctx, box, query, variables) {
  const payload = await mutate(query, variables);
  if (payload.errors.length) return showErrors(box, payload.errors);
  if (payload.hostedInvoiceUrl) window.open(payload.hostedInvoiceUrl, "_blank", "noopener");
  ctx.refresh();
}

function planPage(ctx) {
  const vendorId = ctx.params.vendorId;
  const sub = ctx.data?.vendorSubscription;
  const access = ctx.data?.vendorPlanAccess;
  const plans = ctx.data?.vendorPlans || [];
  const owner = roleAt(ctx, vendorId)?.role === "OWNER";
  const open = sub && !sub.ended;
  const changeBox = h("form", {class: "card stack plan-change", novalidate: true, onsubmit: onSubmit((values, form) => (open
    ? act(ctx, form, `mutation Change($v: ID!, $p: String!) { vendorSubscriptionChangePlan(vendorId: $v, plan: $p) { change ${ERROR_FIELDS} } }`,
      {v: vendorId, p: values.plan})
    : act(ctx, form, `mutation Start($v: ID!, $p: String!, $m: VendorPlanPaymentMethod) {
        vendorSubscriptionStart(vendorId: $v, plan: $p, paymentMethod: $m) { hostedInvoiceUrl ${ERROR_FIELDS} } }`,
    {v: vendorId, p: values.plan, m: values.paymentMethod || "CARD"})))},
  h("h2", {}, open ? t("更换套餐", "Change the plan") : t("选择套餐", "Choose a plan")),
  field({label: t("套餐", "Plan"), name: "plan", required: true, value: sub?.plan.code,
    choices: plans.map((p) => [p.code, `${name(p)} · ${money(p.price)} / ${p.intervalCount > 1 ? p.intervalCount : ""}${word(p.interval)}`])}),
  open ? null : field({label: t("付款方式", "Pay by"), name: "paymentMethod", choices: [["CARD", t("银行卡自动续费", "Card, renews itself")],
    ["WALLET", t("支付宝 / 微信（按账单支付）", "Alipay / WeChat Pay (pay each invoice)")]]}),
  formErrors(),
  h("button", {type: "submit", class: "primary"}, open ? t("更换", "Change") : t("开通", "Subscribe")));
  const cancelBox = h("div", {class: "actions"},
    open && !sub.cancelAtPeriodEnd ? h("button", {type: "button", class: "danger", onclick: () => act(ctx, cancelBox,
      `mutation Cancel($v: ID!) { vendorSubscriptionCancel(vendorId: $v) { ${ERROR_FIELDS} } }`, {v: vendorId})}, t("到期后取消", "Cancel at the period's end")) : null,
    open && sub.cancelAtPeriodEnd ? h("button", {type: "button", class: "secondary", onclick: () => act(ctx, cancelBox,
      `mutation Keep($v: ID!) { vendorSubscriptionCancel(vendorId: $v, undo: true) { ${ERROR_FIELDS} } }`, {v: vendorId})}, t("继续订阅", "Keep the plan")) : null,
    formErrors());
  return [
    h("div", {class: "stats"},
      h("div", {class: "card stat"}, h("p", {class: "meta"}, t("店铺权限", "Access")), h("p", {class: "big-number", id: "plan-access"}, word(access))),
      sub ? h("div", {class: "card stat"}, h("p", {class: "meta"}, t("当前套餐", "Plan")), h("p", {class: "big-number"}, name(sub.plan)),
        h("p", {}, status(sub.status), sub.entitledPlan.code !== sub.plan.code ? [" ", t("权益按 ", "entitled as "), name(sub.entitledPlan)] : null)) : null,
      sub ? h("div", {class: "card stat"}, h("p", {class: "meta"}, t("商品配额", "Products listed")),
        h("p", {class: "big-number"}, `${sub.quota.listed} / ${sub.quota.limit ?? "∞"}`),
        sub.quota.deadline ? h("p", {class: "warn"}, t("请在此前下架多余商品：", "Choose what stays listed by "), date(sub.quota.deadline)) : null) : null),
    sub ? h("section", {class: "card billing-state", "aria-labelledby": "billing-heading"},
      h("h2", {id: "billing-heading"}, t("账单状态", "Billing")),
      h("ul", {class: "plain"},
        sub.trialEnd ? h("li", {}, t("试用到 ", "Trial until "), date(sub.trialEnd)) : null,
        sub.currentPeriodEnd ? h("li", {}, t("本期 ", "This period "), date(sub.currentPeriodStart), " – ", date(sub.currentPeriodEnd)) : null,
        sub.paidThrough ? h("li", {}, t("已付至 ", "Paid through "), date(sub.paidThrough)) : null,
        sub.graceUntil ? h("li", {class: "warn"}, t("付款失败，宽限期到 ", "Payment failed: grace until "), date(sub.graceUntil)) : null,
        sub.cancelAtPeriodEnd ? h("li", {class: "warn"}, t("将于期末取消", "Cancels at the period's end")) : null,
        sub.pendingChange ? h("li", {}, word(sub.pendingChange.kind), t(" 待生效：", " pending: "), name(sub.pendingChange.plan)) : null,
        sub.override ? h("li", {class: "warn"}, t("平台设置：", "Set by the platform: "), word(sub.override.access), " · ", sub.override.reason,
          sub.override.until ? [" · ", t("至 ", "until "), date(sub.override.until)] : null) : null,
        h("li", {}, t("付款方式 ", "Pays by "), sub.paymentMethod === "WALLET" ? t("支付宝 / 微信", "Alipay / WeChat Pay") : t("银行卡", "card"))),
      grants(sub.entitlements)) : empty(t("尚未订阅套餐。", "No plan yet.")),
    sub && sub.invoices.length ? h("div", {class: "table-wrap"}, h("table", {class: "data invoices"},
      h("caption", {}, t("账单", "Invoices")),
      h("thead", {}, h("tr", {}, [t("账单号", "Number"), t("状态", "Status"), t("应付", "Due"), t("已付", "Paid"), t("账期至", "Period end"), ""]
        .map((x) => h("th", {scope: "col"}, x)))),
      h("tbody", {}, sub.invoices.map((i) => h("tr", {},
        h("td", {}, i.number || i.invoiceId), h("td", {}, status(i.status), i.finalFailure ? h("span", {class: "warn"}, t(" 最终失败", " final failure")) : null),
        h("td", {class: "num"}, money(i.amountDue)), h("td", {class: "num"}, money(i.amountPaid)), h("td", {}, date(i.periodEnd)),
        h("td", {}, i.status === "OPEN" && i.hostedInvoiceUrl ? h("a", {href: i.hostedInvoiceUrl, target: "_blank", rel: "noopener"}, t("去支付", "Pay")) : null)))))) : null,
    owner ? [changeBox, open ? cancelBox : null] : h("p", {class: "help"}, t("只有店主可以更换套餐。", "Only the owner can change the plan.")),
  ];
}

export function register(registry) {
  registry.page("/vendor/:vendorId/plan", {
    auth: "member",
    title: () => t("套餐与账单", "Plan and billing"),
    query: (ctx) => (MANAGERS.includes(roleAt(ctx.lastCtx || {}, ctx.params.vendorId)?.role) || !ctx.lastCtx?.me ? {
      fields: `vendorSubscription(vendorId: $vendorId) { id status access ended trialEnd currentPeriodStart currentPeriodEnd paidThrough graceUntil
          cancelAtPeriodEnd paymentMethod plan { ${PLAN} } entitledPlan { code nameZh nameEn }
          pendingChange { kind plan { code nameZh nameEn } } override { access reason until }
          entitlements { ${ENTITLEMENTS} } quota { limit listed deadline }
          invoices { invoiceId number status amountDue { ${MONEY} } amountPaid { ${MONEY} } periodEnd hostedInvoiceUrl finalFailure } }
        vendorPlanAccess(vendorId: $vendorId)
        vendorPlans(vendorId: $vendorId) { ${PLAN} }`,
      variables: {vendorId: ["ID!", ctx.params.vendorId]}} : null),
    render: (ctx) => frame(ctx, "plan", t("套餐与账单", "Plan and billing"), requireRole(ctx, MANAGERS, ctx.data?.vendorPlans ? planPage(ctx) : null)),
  });
  registry.nav("vendor", {key: "plan", path: "/plan", label: () => t("套餐与账单", "Plan and billing"), order: 45, roles: MANAGERS});
}
