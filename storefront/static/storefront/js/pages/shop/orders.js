// My orders and one order: its sub-orders per seller (status, tracking), payments, refunds.

import {ERROR_FIELDS, mutate} from "sf/core/api.js";
import {formErrors, h, showErrors} from "sf/core/dom.js";
import {date, label, money, name, t} from "sf/core/i18n.js";
import {href, registry} from "sf/core/router.js";
import {MONEY, address, badge, empty, moneyRow, pageHeader} from "sf/core/components.js";

const REFUND = `reference reason status createdAt amount { ${MONEY} } cash { ${MONEY} } tendered { ${MONEY} }`;

registry.page("/orders", {
  auth: "member",
  title: () => t("我的订单", "My orders"),
  query: (ctx) => ({fields: `myOrders(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor }
    edges { node { number status createdAt total { ${MONEY} } refundedTotal { ${MONEY} }
      vendorOrders { vendor { nameZh nameEn } lines { productName quantity } } } } }`,
  variables: {first: ["Int", 20], after: ["String", ctx.query.get("after")]}}),
  render(ctx) {
    const orders = ctx.data.myOrders;
    return [
      pageHeader(t("我的订单", "My orders")),
      orders.edges.length ? h("ul", {class: "list"}, orders.edges.map(({node: o}) => h("li", {class: "card row"},
        h("div", {},
          h("a", {href: href(`/orders/${encodeURIComponent(o.number)}`), class: "strong"}, t("订单 ", "Order "), o.number),
          h("p", {class: "meta"}, date(o.createdAt), " · ", o.vendorOrders.map((v) => v.vendor ? name(v.vendor) : t("平台", "Platform")).join("、")),
          h("p", {class: "meta"}, o.vendorOrders.flatMap((v) => v.lines).map((l) => `${l.productName} ×${l.quantity}`).join("，"))),
        h("div", {class: "right"}, badge(o.status), h("p", {class: "num strong"}, money(o.total)),
          Number(o.refundedTotal.amount) ? h("p", {class: "meta"}, t("已退 ", "Refunded "), money(o.refundedTotal)) : null))))
        : empty(t("还没有订单。", "No orders yet."), h("a", {href: href("/"), class: "button primary"}, t("去逛逛", "Start shopping"))),
      orders.pageInfo.hasNextPage ? h("p", {}, h("a", {class: "button secondary",
        href: href(`/orders?after=${encodeURIComponent(orders.pageInfo.endCursor)}`)}, t("更多订单", "More orders"))) : null,
    ];
  },
});

function refundsTable(refunds) {
  if (!refunds.length) return null;
  return h("div", {class: "table-wrap"}, h("table", {class: "refunds"},
    h("caption", {}, t("退款", "Refunds")),
    h("thead", {}, h("tr", {}, h("th", {scope: "col"}, t("时间", "When")), h("th", {scope: "col"}, t("金额", "Amount")),
      h("th", {scope: "col"}, t("原因", "Reason")), h("th", {scope: "col"}, t("状态", "Status")))),
    h("tbody", {}, refunds.map((r) => h("tr", {}, h("td", {}, date(r.createdAt)), h("td", {class: "num"}, money(r.amount)),
      h("td", {}, r.reason || "—"), h("td", {}, badge(r.status)))))));
}

registry.page("/orders/:number", {
  title: (data) => (data.order ? `${t("订单", "Order")} ${data.order.number}` : t("订单", "Order")),
  query: (ctx) => {
    let token = null;
    try {
      token = JSON.parse(sessionStorage.getItem(`sf.pay.${ctx.params.number}`) || "null")?.checkoutToken || null;
    } catch { /* none */ }
    return {
      fields: `order(number: $number, checkoutToken: $ct) { id number status createdAt paidAt cancelledAt cancelReason
        shippingAddress email
        subtotal { ${MONEY} } discountTotal { ${MONEY} } shippingTotal { ${MONEY} } total { ${MONEY} }
        amountDue { ${MONEY} } refundedTotal { ${MONEY} }
        vendorOrders { id status shippingMethodName carrier trackingNumber fulfilledAt onHold holdReason
          vendor { nameZh nameEn } subtotal { ${MONEY} } shipping { ${MONEY} } total { ${MONEY} } refunded { ${MONEY} }
          lines { productName sku quantity unitPrice { ${MONEY} } total { ${MONEY} } }
          refunds { ${REFUND} } }
        payments { gateway status createdAt amount { ${MONEY} } captured { ${MONEY} } refunded { ${MONEY} } } }`,
      variables: {number: ["String!", ctx.params.number], ct: ["UUID", token]},
    };
  },
  render(ctx) {
    const order = ctx.data.order;
    if (!order) return [pageHeader(t("订单", "Order")), empty(t("找不到该订单，请先登录。", "Order not found. Are you signed in?"))];
    const errors = formErrors();
    const act = async (mutation, extra = "") => {
      const payload = await mutate(`mutation Act($id: ID!) { ${mutation}(id: $id${extra}) { order { status } ${ERROR_FIELDS} } }`, {id: order.id});
      if (payload.errors.length) return showErrors(errors.parentElement, payload.errors);
      ctx.refresh();
    };
    return h("article", {class: "order"},
      pageHeader(`${t("订单", "Order")} ${order.number}`, badge(order.status)),
      h("p", {class: "meta"}, t("下单时间 ", "Placed "), date(order.createdAt),
        order.paidAt ? [" · ", t("付款时间 ", "paid "), date(order.paidAt)] : null),
      order.status === "CANCELLED" ? h("p", {class: "notice"}, t("已取消：", "Cancelled: "), order.cancelReason) : null,
      h("div", {class: "actions"},
        order.status === "UNPAID" ? [
          h("a", {class: "button primary", href: href(`/pay/${encodeURIComponent(order.number)}`)}, t("去支付", "Pay now")),
          h("button", {type: "button", class: "secondary", onclick: () => act("orderCancel")}, t("取消订单", "Cancel the order"))] : null,
        order.status === "FULFILLED" ? h("button", {type: "button", class: "primary", onclick: () => act("orderConfirmReceived")},
          t("确认收货", "I received it")) : null),
      errors,
      order.shippingAddress ? h("p", {}, h("strong", {}, t("收货地址：", "Ship to: ")), address(order.shippingAddress)) : null,
      order.vendorOrders.map((vo) => h("section", {class: "card vendor-part"},
        h("h2", {}, vo.vendor ? name(vo.vendor) : t("平台自营", "The platform"), " ", badge(vo.status)),
        vo.onHold ? h("p", {class: "notice"}, t("暂缓发货：", "On hold: "), vo.holdReason) : null,
        h("div", {class: "table-wrap"}, h("table", {class: "lines"},
          h("thead", {}, h("tr", {}, h("th", {scope: "col"}, t("商品", "Item")), h("th", {scope: "col"}, t("单价", "Unit price")),
            h("th", {scope: "col"}, t("数量", "Qty")), h("th", {scope: "col"}, t("金额", "Total")))),
          h("tbody", {}, vo.lines.map((l) => h("tr", {}, h("td", {}, l.productName, h("span", {class: "meta"}, ` ${l.sku}`)),
            h("td", {class: "num"}, money(l.unitPrice)), h("td", {class: "num"}, l.quantity), h("td", {class: "num"}, money(l.total))))))),
        h("p", {class: "meta"}, vo.shippingMethodName ? `${vo.shippingMethodName} ${money(vo.shipping)}` : null,
          vo.trackingNumber ? [" · ", t("物流 ", "Tracking "), `${vo.carrier} ${vo.trackingNumber}`] : null),
        Number(vo.refunded.amount) ? h("p", {class: "strong"}, t("已退款 ", "Refunded "), money(vo.refunded)) : null,
        refundsTable(vo.refunds))),
      h("section", {class: "card totals"}, h("table", {}, h("tbody", {},
        moneyRow(t("商品金额", "Goods"), order.subtotal),
        Number(order.discountTotal.amount) ? moneyRow(t("优惠", "Discounts"), order.discountTotal) : null,
        moneyRow(t("运费", "Shipping"), order.shippingTotal),
        moneyRow(t("合计", "Total"), order.total, "total"),
        Number(order.refundedTotal.amount) ? moneyRow(t("已退款", "Refunded"), order.refundedTotal) : null))),
      order.payments.length ? h("section", {class: "card"}, h("h2", {}, t("付款记录", "Payments")),
        h("ul", {class: "plain"}, order.payments.map((p) => h("li", {}, `${p.gateway} · ${label(p.status.toUpperCase())} · `,
          money(p.amount), Number(p.refunded.amount) ? [t("，已退 ", ", refunded "), money(p.refunded)] : null)))) : null,
      h("p", {}, h("a", {href: href("/orders")}, t("← 全部订单", "← All orders"))));
  },
});

