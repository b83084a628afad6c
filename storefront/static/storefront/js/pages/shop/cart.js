// The cart, split by seller: quantities (the API's error shown next to each), removal,
// the explained unit prices, and the way to checkout.

import {ERROR_FIELDS, mutate} from "sf/core/api.js";
import {formErrors, h, showErrors, uid} from "sf/core/dom.js";
import {money, name, t} from "sf/core/i18n.js";
import {href, registry} from "sf/core/router.js";
import {CART_FIELDS, empty, moneyRow, pageHeader} from "sf/core/components.js";

/** The page's part of the document: the member's cart, or the anonymous one by its token. */
export function cartQuery(ctx, fields = CART_FIELDS) {
  if (ctx.session.signedIn) return {fields: `cart: myCheckout { ${fields} }`};
  if (ctx.session.cartToken) return {fields: `cart: checkout(token: $cartToken) { ${fields} }`,
    variables: {cartToken: ["UUID!", ctx.session.cartToken]}};
  return null;
}

function lineRow(ctx, cart, line) {
  const qtyId = uid("qty");
  const errorId = `${qtyId}-error`;
  const errorField = `line-${line.id}`;
  const product = line.variant?.product;
  const changeQuantity = async (event) => {
    const input = event.target;
    const quantity = Number.parseInt(input.value, 10);
    const payload = await mutate(`mutation Qty($t: UUID!, $v: ID!, $q: Int!) {
      checkoutLineUpdate(token: $t, variantId: $v, quantity: $q) { checkout { quantity } ${ERROR_FIELDS} } }`,
    {t: cart.token, v: line.variant.id, q: Number.isFinite(quantity) ? quantity : -1});
    const row = input.closest("li");
    if (payload.errors.length) {
      return showErrors(row, payload.errors.map((e) => ({...e, field: errorField})));
    }
    ctx.refresh();
  };
  const remove = async () => {
    const payload = await mutate(`mutation Remove($t: UUID!, $l: ID!) { checkoutLineRemove(token: $t, lineId: $l) { ${ERROR_FIELDS} } }`,
      {t: cart.token, l: line.id});
    if (payload.errors.length) return showErrors(document.getElementById("main"), payload.errors);
    ctx.refresh();
  };
  const title = product ? name(product) : line.name;
  return h("li", {class: "cart-line"},
    h("div", {class: "line-main"},
      product ? h("a", {href: href(`/p/${encodeURIComponent(product.vendor.slug)}/${encodeURIComponent(product.slug)}`), class: "strong"}, title)
        : h("span", {class: "strong"}, title),
      h("p", {class: "meta"}, [line.variant?.name, line.sku].filter(Boolean).join(" · ")),
      h("p", {class: "meta"}, t("单价 ", "Unit price "), money(line.unitPrice.final),
        line.unitPrice.adjustments.length ? h("s", {class: "price-list"}, money(line.unitPrice.list)) : null)),
    h("div", {class: "line-qty field"},
      h("label", {for: qtyId}, t("数量", "Quantity"), h("span", {class: "sr-only"}, ` ${title}`)),
      line.kind === "product"
        ? h("input", {id: qtyId, type: "number", min: 0, step: 1, inputmode: "numeric", value: line.quantity, name: `qty-${line.id}`,
          "data-key": `qty-${line.id}`, "aria-describedby": errorId, onchange: changeQuantity})
        : h("span", {id: qtyId}, line.quantity),
      h("p", {class: "field-error", id: errorId, "data-error-for": errorField, "aria-live": "polite"})),
    h("p", {class: "line-total num"}, money(line.total)),
    h("button", {type: "button", class: "link danger", "aria-label": t(`删除 ${title}`, `Remove ${title}`), onclick: remove},
      t("删除", "Remove")));
}

registry.page("/cart", {
  title: () => t("购物车", "Cart"),
  query: (ctx) => cartQuery(ctx),
  render(ctx) {
    const cart = ctx.data.cart;
    if (!cart || !cart.quantity) {
      return [pageHeader(t("购物车", "Cart")), empty(t("购物车是空的。", "Your cart is empty."),
        h("a", {href: href("/"), class: "button primary"}, t("去逛逛", "Start shopping")))];
    }
    return [
      pageHeader(t("购物车", "Cart")),
      formErrors(),
      cart.vendors.map((part) => h("section", {class: "card vendor-part", "aria-label": part.vendor ? name(part.vendor) : t("平台", "Platform")},
        h("h2", {}, part.vendor ? name(part.vendor) : t("平台自营", "Sold by the platform")),
        h("ul", {class: "cart-lines"}, part.lines.map((line) => lineRow(ctx, cart, line))),
        h("p", {class: "part-total"}, t("小计 ", "Subtotal "), money(part.subtotal)))),
      h("section", {class: "card totals"},
        h("table", {}, h("tbody", {},
          moneyRow(t("商品金额", "Goods"), cart.subtotal),
          Number(cart.discount.amount) ? moneyRow(t("优惠", "Discounts"), cart.discount) : null)),
        h("p", {class: "help"}, t("运费在结算时按店铺计算。", "Shipping is chosen per shop at checkout.")),
        h("a", {href: href("/checkout"), class: "button primary"}, t("去结算", "Checkout"))),
    ];
  },
});
