// Checkout: e-mail (anonymous buyers), shipping address, a shipping method per seller, the
// total, then the order is placed and paid: the development gateway on the embedded
// defaults (devPaymentConfirm), or Stripe's card form when Stripe is configured.

import {ERROR_FIELDS, mutate, session} from "sf/core/api.js";
import {field, formErrors, h, onSubmit, showErrors, uid} from "sf/core/dom.js";
import {money, name, t} from "sf/core/i18n.js";
import {href, navigate, registry} from "sf/core/router.js";
import {MONEY, empty, moneyRow, pageHeader} from "sf/core/components.js";
import {cartQuery} from "sf/pages/shop/cart.js";
import {payWithStripe} from "sf/pages/shop/stripe.js";

const ADDRESS_FIELDS = [["fullName", "收货人", "Full name", "name"], ["phone", "手机号", "Phone", "tel"],
  ["province", "省份", "Province", "address-level1"], ["city", "城市", "City", "address-level2"],
  ["district", "区县", "District", "address-level3"], ["street", "详细地址", "Street address", "street-address"],
  ["postalCode", "邮编", "Postal code", "postal-code"]];
const drafts = new Map();  // unsaved address per cart, kept across re-renders

const camel = (key) => key.replace(/_(\w)/g, (_, c) => c.toUpperCase());

function initialAddress(cart, profile) {
  if (drafts.has(cart.token)) return drafts.get(cart.token);
  if (cart.shippingAddress) {
    const saved = JSON.parse(cart.shippingAddress);
    return Object.fromEntries(Object.entries(saved).map(([k, v]) => [camel(k), v]));
  }
  const chosen = profile?.addresses?.find((a) => a.isDefault) || profile?.addresses?.[0];
  return chosen || {};
}

/** Remember, per order, what paying it needs on the next page (this tab only). */
export function rememberPayment(number, info) {
  sessionStorage.setItem(`sf.pay.${number}`, JSON.stringify(info));
}

function recallPayment(number) {
  try {
    return JSON.parse(sessionStorage.getItem(`sf.pay.${number}`) || "null");
  } catch {
    return null;
  }
}

function gatewayName(gateway) {
  return {dev: t("开发测试支付（无真实扣款）", "Development gateway (no real money)"),
    stripe: t("银行卡（Stripe）", "Card (Stripe)")}[gateway.name] || gateway.name;
}

registry.page("/checkout", {
  title: () => t("结算", "Checkout"),
  query(ctx) {
    const cart = cartQuery(ctx);
    if (!cart) return null;
    const profile = ctx.session.signedIn
      ? "profile: me { addresses { id fullName phone province city district street postalCode isDefault } }" : "";
    return {...cart, fields: `${cart.fields} ${profile} paymentGateways { name clientConfig }`};
  },
  render(ctx) {
    const cart = ctx.data?.cart;
    if (!cart || !cart.quantity) {
      return [pageHeader(t("结算", "Checkout")), empty(t("购物车是空的。", "Your cart is empty."),
        h("a", {href: href("/"), class: "button primary"}, t("去逛逛", "Start shopping")))];
    }
    const gateways = ctx.data.paymentGateways || [];
    const initial = initialAddress(cart, ctx.data.profile);

    const addressBox = h("fieldset", {class: "card"},
      h("legend", {}, t("收货地址", "Shipping address")),
      ADDRESS_FIELDS.map(([key, zh, en, autocomplete]) => field({label: t(zh, en), name: key, value: initial[key] || "",
        autocomplete, required: key !== "district" && key !== "postalCode", type: key === "phone" ? "tel" : "text"})));
    addressBox.addEventListener("input", () => {
      const form = addressBox.closest("form");
      if (form) drafts.set(cart.token, Object.fromEntries(ADDRESS_FIELDS.map(([key]) => [key, form.elements[key].value])));
    });

    const shippingBox = h("section", {class: "card", "aria-labelledby": "shipping-heading"},
      h("h2", {id: "shipping-heading"}, t("配送方式", "Shipping")),
      cart.vendors.filter((part) => part.requiresShipping).map((part) => {
        const group = uid("ship");
        const errorField = `shipping-${part.vendor?.id}`;
        return h("fieldset", {class: "ship-part"},
          h("legend", {}, part.vendor ? name(part.vendor) : t("平台自营", "The platform")),
          part.shippingOptions.length ? part.shippingOptions.map((option) => {
            const id = uid("m");
            return h("div", {class: "check"},
              h("input", {type: "radio", id, name: group, value: option.method.id, "data-key": `ship-${option.method.id}`,
                checked: part.shippingMethod?.id === option.method.id, onchange: async (event) => {
                  const payload = await mutate(`mutation Ship($t: UUID!, $v: ID!, $m: ID!) {
                    checkoutShippingMethodUpdate(token: $t, vendorId: $v, shippingMethodId: $m) { ${ERROR_FIELDS} } }`,
                  {t: cart.token, v: part.vendor.id, m: option.method.id});
                  if (payload.errors.length) {
                    return showErrors(event.target.closest("fieldset"), payload.errors.map((e) => ({...e, field: errorField})));
                  }
                  ctx.refresh();
                }}),
              h("label", {for: id}, `${name(option.method)} · ${money(option.cost)}`));
          }) : h("p", {class: "help"}, t("该店铺暂无配送方式。", "This shop has no shipping method.")),
          h("p", {class: "meta"}, t("商品 ", "Goods "), money(part.subtotal), t("，运费 ", ", shipping "), money(part.shipping)),
          h("p", {class: "field-error", "data-error-for": errorField, "aria-live": "polite"}));
      }));

    const choices = gateways.map((g, i) => {
      const id = uid("gw");
      return h("div", {class: "check"}, h("input", {type: "radio", id, name: "gateway", value: g.name, checked: i === 0}),
        h("label", {for: id}, gatewayName(g)));
    });
    const payBox = h("fieldset", {class: "card"},
      h("legend", {}, t("支付方式", "Payment")),
      choices.length ? choices : h("p", {class: "help"}, t("暂无可用的支付方式。", "No payment method is available.")),
      h("p", {class: "field-error", "data-error-for": "gateway", "aria-live": "polite"}));

    const totals = h("section", {class: "card totals", "aria-labelledby": "total-heading"},
      h("h2", {id: "total-heading"}, t("合计", "Total")),
      h("table", {}, h("tbody", {},
        moneyRow(t("商品金额", "Goods"), cart.subtotal),
        Number(cart.discount.amount) ? moneyRow(t("优惠", "Discounts"), cart.discount) : null,
        cart.adjustments.map((a) => moneyRow(a.label || a.source, a.applied)),
        moneyRow(t("运费", "Shipping"), cart.shipping),
        moneyRow(t("应付", "To pay"), cart.amountDue || cart.total, "total"))),
      cart.total ? null : h("p", {class: "help"}, t("请为每个店铺选择配送方式。", "Choose shipping for every shop.")));

    return [
      pageHeader(t("结算", "Checkout")),
      h("form", {class: "checkout stack", novalidate: true, onsubmit: onSubmit(async (values, form) => {
        if (!ctx.session.signedIn) {
          const payload = await mutate(`mutation Email($t: UUID!, $e: String!) { checkoutEmailUpdate(token: $t, email: $e) { ${ERROR_FIELDS} } }`,
            {t: cart.token, e: values.email || ""});
          if (payload.errors.length) return showErrors(form, payload.errors);
        }
        if (cart.requiresShipping) {
          const addressInput = Object.fromEntries(ADDRESS_FIELDS.map(([key]) => [key, values[key] || ""]));
          const payload = await mutate(`mutation Address($t: UUID!, $a: CheckoutAddressInput!) {
            checkoutShippingAddressUpdate(token: $t, address: $a) { ${ERROR_FIELDS} } }`, {t: cart.token, a: addressInput});
          if (payload.errors.length) return showErrors(form, payload.errors);
          drafts.delete(cart.token);
        }
        const gateway = values.gateway || null;
        const placed = await mutate(`mutation Place($t: UUID!, $g: String, $e: Decimal) {
          checkoutComplete(token: $t, gateway: $g, expectedTotal: $e) {
            order { number status checkoutToken amountDue { ${MONEY} } }
            payment { gateway clientSecret amount { ${MONEY} } } ${ERROR_FIELDS} } }`,
        {t: cart.token, g: gateway, e: cart.total ? cart.total.amount : null});
        if (!placed.order) return showErrors(form, placed.errors);
        const order = placed.order;
        if (!ctx.session.signedIn) session.cartToken = null;
        rememberPayment(order.number, {checkoutToken: order.checkoutToken, gateway,
          clientSecret: placed.payment?.clientSecret || null, error: placed.errors[0]?.message || null});
        document.dispatchEvent(new CustomEvent("sf:cart", {detail: {quantity: 0}}));
        navigate(order.status === "UNPAID" ? `/pay/${encodeURIComponent(order.number)}` : `/orders/${encodeURIComponent(order.number)}`);
      })},
        ctx.session.signedIn ? null : h("fieldset", {class: "card"}, h("legend", {}, t("联系邮箱", "Contact e-mail")),
          field({label: t("邮箱", "E-mail"), name: "email", type: "email", autocomplete: "email", required: true, value: cart.email || ""})),
        cart.requiresShipping ? addressBox : null,
        shippingBox,
        payBox,
        totals,
        formErrors(),
        h("button", {type: "submit", class: "primary big", disabled: !gateways.length && Number(cart.amountDue?.amount ?? 1) > 0},
          t("提交订单并支付", "Place order and pay"))),
    ];
  },
});

function devGatewayForm(ctx, order, info) {
  const confirm = async (outcome, form) => {
    const payload = await mutate(`mutation Confirm($s: String!, $o: DevPaymentOutcome) {
      devPaymentConfirm(clientSecret: $s, outcome: $o) { status ${ERROR_FIELDS} } }`, {s: info.clientSecret, o: outcome});
    if (payload.errors.length) return showErrors(form, payload.errors);
    if (outcome === "SUCCEED") {
      sessionStorage.removeItem(`sf.pay.${order.number}`);
      return navigate(`/orders/${encodeURIComponent(order.number)}`);
    }
    rememberPayment(order.number, {...info, clientSecret: null, error: t("付款被拒绝，可重新付款。", "The payment was declined. Try again.")});
    ctx.refresh();
  };
  return h("form", {class: "card stack dev-gateway", onsubmit: onSubmit((values, form, submitter) =>
    confirm(submitter?.value || "SUCCEED", form))},
  h("h2", {}, t("开发测试支付", "Development gateway")),
  h("p", {class: "help"}, t("本地开发环境的模拟支付：不联网，不扣真实款项。", "Simulated payment for development: no network, no real money.")),
  formErrors(),
  h("div", {class: "actions"},
    h("button", {type: "submit", name: "outcome", value: "SUCCEED", class: "primary big"}, t(`确认支付 ${money(order.amountDue)}`, `Pay ${money(order.amountDue)}`)),
    h("button", {type: "submit", name: "outcome", value: "FAIL", class: "secondary"}, t("模拟支付失败", "Simulate a decline"))));
}

/** The payment step of an unpaid order: confirm a started payment, or start one. */
registry.page("/pay/:number", {
  title: () => t("支付", "Payment"),
  query(ctx) {
    const info = recallPayment(ctx.params.number);
    return {
      fields: `order(number: $number, checkoutToken: $ct) { id number status checkoutToken total { ${MONEY} } amountDue { ${MONEY} }
        vendorOrders { vendor { nameZh nameEn } total { ${MONEY} } } }
        paymentGateways { name clientConfig }`,
      variables: {number: ["String!", ctx.params.number], ct: ["UUID", info?.checkoutToken || null]},
    };
  },
  render(ctx) {
    const order = ctx.data.order;
    if (!order) return empty(t("找不到该订单。", "Order not found."));
    if (order.status !== "UNPAID") {
      return [pageHeader(t("支付", "Payment")), h("p", {class: "notice"}, t("该订单无需支付。", "Nothing to pay for this order.")),
        h("a", {href: href(`/orders/${encodeURIComponent(order.number)}`), class: "button primary"}, t("查看订单", "See the order"))];
    }
    const info = recallPayment(order.number) || {checkoutToken: order.checkoutToken};
    const gateways = ctx.data.paymentGateways;
    const start = async (gatewayName, form) => {
      const payload = await mutate(`mutation Pay($n: String!, $t: UUID!, $g: String!) {
        orderPaymentCreate(orderNumber: $n, checkoutToken: $t, gateway: $g) { payment { clientSecret } ${ERROR_FIELDS} } }`,
      {n: order.number, t: info.checkoutToken || order.checkoutToken, g: gatewayName});
      if (payload.errors.length) return showErrors(form, payload.errors);
      rememberPayment(order.number, {...info, checkoutToken: info.checkoutToken || order.checkoutToken, gateway: gatewayName,
        clientSecret: payload.payment.clientSecret, error: null});
      ctx.refresh();
    };
    let step;
    if (info.clientSecret && info.gateway === "dev") step = devGatewayForm(ctx, order, info);
    else if (info.clientSecret && info.gateway === "stripe") {
      const stripe = gateways.find((g) => g.name === "stripe");
      step = payWithStripe(ctx, order, info, stripe?.clientConfig || {}, () => {
        sessionStorage.removeItem(`sf.pay.${order.number}`);
        navigate(`/orders/${encodeURIComponent(order.number)}`);
      });
    } else {
      step = h("form", {class: "card stack", onsubmit: onSubmit((values, form) => start(values.gateway, form))},
        h("fieldset", {}, h("legend", {}, t("支付方式", "Payment")),
          gateways.map((g, i) => {
            const id = uid("gw");
            return h("div", {class: "check"}, h("input", {type: "radio", id, name: "gateway", value: g.name, checked: i === 0}),
              h("label", {for: id}, gatewayName(g)));
          }),
          h("p", {class: "field-error", "data-error-for": "gateway"})),
        formErrors(),
        h("button", {type: "submit", class: "primary big"}, t("去支付", "Pay now")));
    }
    return [
      pageHeader(t("支付订单", "Pay for your order")),
      h("p", {}, t("订单号 ", "Order "), h("strong", {}, order.number), " · ", t("应付 ", "to pay "), h("strong", {}, money(order.amountDue))),
      info.error ? h("p", {class: "alert", role: "alert"}, info.error) : null,
      step,
      h("p", {}, h("a", {href: href(`/orders/${encodeURIComponent(order.number)}`)}, t("稍后支付，查看订单", "Pay later: see the order"))),
    ];
  },
});

