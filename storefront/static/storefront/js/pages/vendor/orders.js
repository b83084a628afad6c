// Orders to fulfil, per sub-order (vendorOrders): lines, address, fulfil with carrier and
// tracking number; refunds of the vendor's own sub-orders (owners and managers).

import {ERROR_FIELDS, mutate} from "sf/core/api.js";
import {field, formErrors, h, onSubmit, showErrors} from "sf/core/dom.js";
import {date, label, money, t} from "sf/core/i18n.js";
import {href, registry} from "sf/core/router.js";
import {MONEY, address, badge, empty} from "sf/core/components.js";
import {MANAGERS, frame, roleAt, vendorPath} from "sf/pages/vendor/layout.js";

const FILTERS = [["PAID", "待发货", "To fulfil"], ["FULFILLED", "已发货", "Shipped"], ["", "全部", "All"]];

function fulfilForm(ctx, vo) {
  const ships = vo.lines.some((l) => l.requiresShipping);
  return h("form", {class: "stack fulfil", novalidate: true, "aria-label": t(`发货 ${vo.orderNumber}`, `Fulfil ${vo.orderNumber}`),
    onsubmit: onSubmit(async (values, form) => {
      const payload = await mutate(`mutation Fulfil($id: ID!, $c: String, $n: String) {
        vendorOrderFulfil(id: $id, carrier: $c, trackingNumber: $n) { vendorOrder { status } ${ERROR_FIELDS} } }`,
      {id: vo.id, c: values.carrier || null, n: values.trackingNumber || null});
      if (payload.errors.length) return showErrors(form, payload.errors);
      ctx.refresh();
    })},
  ships ? h("div", {class: "grid-fields"},
    field({label: t("快递公司", "Carrier"), name: "carrier", required: true}),
    field({label: t("运单号", "Tracking number"), name: "trackingNumber", required: true})) : null,
  formErrors(),
  h("button", {type: "submit", class: "primary"}, ships ? t("确认发货", "Mark as shipped") : t("完成服务", "Mark as done")));
}

function refundForm(ctx, vo) {
  const left = (Number(vo.total.amount) - Number(vo.refunded.amount)).toFixed(2);
  return h("details", {class: "refund"},
    h("summary", {}, t("退款", "Refund")),
    h("form", {class: "stack", novalidate: true, onsubmit: onSubmit(async (values, form) => {
      const payload = await mutate(`mutation Refund($o: ID!, $vo: ID!, $a: Decimal, $r: String) {
        orderRefund(orderId: $o, vendorOrderId: $vo, amount: $a, reason: $r) { vendorOrder { refunded { ${MONEY} } } ${ERROR_FIELDS} } }`,
      {o: vo.orderId, vo: vo.id, a: values.amount || null, r: values.reason});
      if (payload.errors.length) return showErrors(form, payload.errors);
      ctx.refresh();
    })},
    field({label: t("退款金额（留空为全部未退金额）", "Amount (empty: all that is left)"), name: "amount", inputmode: "decimal",
      help: t(`最多 ¥${left}`, `At most ¥${left}`)}),
    field({label: t("原因", "Reason"), name: "reason"}),
    formErrors(),
    h("button", {type: "submit", class: "danger"}, t("退款", "Refund"))));
}

registry.page("/vendor/:vendorId/orders", {
  auth: "member",
  title: () => t("订单", "Orders"),
  query: (ctx) => ({
    fields: `vendorOrders(vendorId: $vendorId, status: $status, first: 30, after: $after) { totalCount pageInfo { hasNextPage endCursor }
      edges { node { id orderId orderNumber customerEmail shippingAddress status onHold holdReason shippingMethodName carrier
        trackingNumber fulfilledAt commissionRate subtotal { ${MONEY} } shipping { ${MONEY} } total { ${MONEY} }
        refunded { ${MONEY} } commission { ${MONEY} }
        lines { productName sku quantity requiresShipping unitPrice { ${MONEY} } total { ${MONEY} } }
        refunds { amount { ${MONEY} } reason status createdAt } } } }`,
    variables: {vendorId: ["ID!", ctx.params.vendorId], after: ["String", ctx.query.get("after")],
      status: ["VendorOrderStatus", ctx.query.has("status") ? ctx.query.get("status") || null : "PAID"]},
  }),
  render(ctx) {
    const orders = ctx.data?.vendorOrders;
    if (!orders) return frame(ctx, "orders", t("订单", "Orders"));
    const current = ctx.query.has("status") ? ctx.query.get("status") : "PAID";
    const base = vendorPath(ctx.params.vendorId, "/orders");
    const manager = MANAGERS.includes(roleAt(ctx, ctx.params.vendorId)?.role);
    return frame(ctx, "orders", t("订单", "Orders"),
      h("nav", {"aria-label": t("按状态", "By status")}, h("ul", {class: "chips"}, FILTERS.map(([value, zh, en]) =>
        h("li", {}, h("a", {href: href(`${base}?status=${value}`), "aria-current": current === value ? "true" : false}, t(zh, en)))))),
      orders.edges.length ? h("ul", {class: "list"}, orders.edges.map(({node: vo}) => h("li", {class: "card sub-order", "data-order": vo.orderNumber},
        h("h2", {}, t("订单 ", "Order "), vo.orderNumber, " ", badge(vo.status)),
        h("p", {class: "meta"}, vo.customerEmail, " · ", address(vo.shippingAddress)),
        vo.onHold ? h("p", {class: "notice"}, t("暂缓发货：", "On hold: "), vo.holdReason) : null,
        h("ul", {class: "plain"}, vo.lines.map((l) => h("li", {}, `${l.productName} (${l.sku}) × ${l.quantity} · `, money(l.total)))),
        h("p", {class: "meta"}, t("合计 ", "Total "), money(vo.total), " · ", t("运费 ", "shipping "), money(vo.shipping),
          " · ", t("佣金 ", "commission "), money(vo.commission),
          vo.shippingMethodName ? [" · ", vo.shippingMethodName] : null,
          vo.trackingNumber ? [" · ", `${vo.carrier} ${vo.trackingNumber}`] : null,
          vo.fulfilledAt ? [" · ", t("发货于 ", "shipped "), date(vo.fulfilledAt)] : null),
        vo.refunds.length ? h("ul", {class: "plain refunds"}, vo.refunds.map((r) => h("li", {},
          t("退款 ", "Refund "), money(r.amount), " · ", label(r.status), r.reason ? ` · ${r.reason}` : "", " · ", date(r.createdAt)))) : null,
        vo.status === "PAID" && !vo.onHold ? fulfilForm(ctx, vo) : null,
        manager && ["PAID", "FULFILLED", "COMPLETED"].includes(vo.status) && Number(vo.refunded.amount) < Number(vo.total.amount)
          ? refundForm(ctx, vo) : null)))
        : empty(t("没有需要处理的订单。", "No orders here.")),
      orders.pageInfo.hasNextPage ? h("a", {class: "button secondary",
        href: href(`${base}?status=${current}&after=${encodeURIComponent(orders.pageInfo.endCursor)}`)}, t("下一页", "Next page")) : null);
  },
});
