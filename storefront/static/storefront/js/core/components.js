// Shared components: price with its explanation, product cards, status badges, vehicle
// names, empty and error states, and adding to the cart (member or anonymous).

import {ERROR_FIELDS, mutate, session} from "sf/core/api.js";
import {h} from "sf/core/dom.js";
import {href} from "sf/core/router.js";
import {label, money, name, t} from "sf/core/i18n.js";

export const MONEY = "amount currency";
export const PRICE_FIELDS = `list { ${MONEY} } final { ${MONEY} } discount { ${MONEY} }
  adjustments { source label amount { ${MONEY} } } floorApplied floorExempt`;
export const VEHICLE_FIELDS = "id yearFrom yearTo engine model { id nameZh nameEn make { id nameZh nameEn } }";
export const CART_FIELDS = `token quantity requiresShipping email shippingAddress
  subtotal { ${MONEY} } discount { ${MONEY} } shipping { ${MONEY} } total { ${MONEY} } amountDue { ${MONEY} }
  tendered { ${MONEY} }
  adjustments { source label kind applied { ${MONEY} } }
  vendors { vendor { id slug nameZh nameEn } goods { ${MONEY} } subtotal { ${MONEY} } shipping { ${MONEY} }
    requiresShipping shippingMethod { id }
    shippingOptions { method { id nameZh nameEn } cost { ${MONEY} } }
    lines { id kind reference name sku quantity requiresShipping total { ${MONEY} } unitPrice { ${PRICE_FIELDS} }
      variant { id name available product { id slug nameZh nameEn images vendor { slug } } } } }`;

export function vehicleName(vehicle, year) {
  if (!vehicle) return "";
  const model = vehicle.model;
  const years = year ? String(year) : `${vehicle.yearFrom}–${vehicle.yearTo}`;
  return `${name(model.make)} ${name(model)} ${years} ${vehicle.engine}`.trim();
}

export const badge = (value, kind = "") => h("span", {class: `badge ${kind} badge-${String(value).toLowerCase()}`}, label(value));

export const empty = (text, ...more) => h("div", {class: "empty"}, h("p", {}, text), more);

export function errorBox(error) {
  const offline = error?.message === "network";
  return h("div", {class: "alert", role: "alert"},
    h("p", {}, offline ? t("网络连接失败，请重试。", "Could not reach the server. Try again.")
      : t("出错了：", "Something went wrong: ") + (error?.message || "")));
}

/** The unit price, explained: list price, each adjustment and who made it, the final price. */
export function priceExplained(price) {
  const changed = price.adjustments.length > 0;
  return h("div", {class: "price-explained"},
    h("p", {class: "price-final"}, h("span", {class: "sr-only"}, t("售价 ", "Price ")), money(price.final),
      changed ? h("s", {class: "price-list"}, h("span", {class: "sr-only"}, t("原价 ", "was ")), money(price.list)) : null),
    changed ? h("table", {class: "adjustments"},
      h("caption", {}, t("价格说明", "How this price is made")),
      h("tbody", {},
        h("tr", {}, h("th", {scope: "row"}, t("标价", "List price")), h("td", {}, money(price.list))),
        price.adjustments.map((a) => h("tr", {}, h("th", {scope: "row"}, a.label || a.source), h("td", {}, money(a.amount)))),
        h("tr", {class: "total"}, h("th", {scope: "row"}, t("到手价", "You pay")), h("td", {}, money(price.final))))) : null,
    price.floorApplied ? h("p", {class: "help"}, t("已按平台最低价规则调整。", "Raised to the platform's floor price.")) : null);
}

export const productHref = (product) => href(`/p/${encodeURIComponent(product.vendor.slug)}/${encodeURIComponent(product.slug)}`);

/** A product in a list: image, name, shop, the lowest final price, stock. */
export function productCard(product, highlights) {
  const prices = (product.variants || []).map((v) => v.price.final);
  const lowest = prices.reduce((a, b) => (a && Number(a.amount) <= Number(b.amount) ? a : b), null);
  const image = product.images?.[0];
  return h("li", {class: "card product-card"},
    h("a", {href: productHref(product), class: "card-link"},
      image ? h("img", {src: image, alt: "", loading: "lazy", width: 160, height: 120})
        : h("div", {class: "placeholder", "aria-hidden": "true"}, (name(product) || "?").slice(0, 2)),
      h("h3", {class: "card-title"}, name(product))),
    h("p", {class: "card-meta"}, [name(product.brand), name(product.vendor)].filter(Boolean).join(" · ")),
    h("p", {class: "card-price"}, lowest ? money(lowest) : "—",
      product.inStock ? null : h("span", {class: "badge badge-out"}, t(" 缺货", " Out of stock"))));
}

/** Put variant lines in the cart: a member's own cart (checkoutCreate reuses it), or the
 * anonymous cart whose token is kept in this browser. Returns the mutation payload. */
export async function addToCart(lines) {
  const result = `checkout { token quantity } ${ERROR_FIELDS}`;
  if (session.signedIn || !session.cartToken) {
    const payload = await mutate(`mutation Add($lines: [CheckoutLineInput!]) { checkoutCreate(lines: $lines) { ${result} } }`,
      {lines});
    if (!session.signedIn && payload.checkout) session.cartToken = payload.checkout.token;
    return payload;
  }
  const payload = await mutate(`mutation Add($t: UUID!, $lines: [CheckoutLineInput!]!) {
    checkoutLinesAdd(token: $t, lines: $lines) { ${result} } }`, {t: session.cartToken, lines});
  if (payload.errors?.some((e) => e.code === "NOT_FOUND" && e.field === "token")) {
    session.cartToken = null;  // that cart was completed or is gone: start a new one
    return addToCart(lines);
  }
  return payload;
}

export function pageHeader(title, ...extra) {
  return h("div", {class: "page-head"}, h("h1", {}, title), extra);
}

export function moneyRow(text, value, cls = "") {
  return h("tr", {class: cls}, h("th", {scope: "row"}, text), h("td", {class: "num"}, money(value)));
}

export function address(value) {
  if (!value) return "";
  const a = typeof value === "string" ? JSON.parse(value) : value;
  return [a.fullName || a.full_name, a.phone, [a.province, a.city, a.district, a.street].filter(Boolean).join(" ")]
    .filter(Boolean).join(" · ");
}
