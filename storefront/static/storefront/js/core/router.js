// The page registry (route table). A page is a module-level object:
//
//   registry.page("/p/:vendor/:slug", {
//     title: (data, ctx) => "…",                 // document title
//     auth: "member" | "vendor",                 // sign-in needed (optional)
//     query: (ctx) => ({fields, variables}),     // the page's part of the ONE document (optional)
//     render: (ctx) => Node | [Node],            // ctx.data holds the answer
//   });
//
// `fields` is a selection on Query using `$name` variables; `variables` maps each name to
// [GraphQL type, value]. The app adds the header's fields and sends one request per page.
// Links: registry.nav("shop" | "vendor", {path, label, order, show(ctx)}) adds a menu item.
//
// Slots: a built-in page lets extensions add to it without replacing it.
//   registry.slot("product.variant", {
//     fields: "memberPrice { … }",               // a selection on the slot's object, joined into
//                                               // the page's ONE document (string or fn(ctx))
//     query: (ctx) => ({fields, variables}),     // optional: top-level fields for the page
//     render: (object, ctx) => Node | null,      // drawn at the slot's place
//     order: 50,
//   });
// The slots (object, where it is drawn):
//   "product"          Product; after the buy form         "product.variant"  ProductVariant; under its price
//   "cart"             Checkout; above the totals           "checkout"         Checkout; above the payment choice
//   "order"            Order; under the sub-orders

import {BASE} from "sf/core/api.js";

const routes = [];
const navs = {shop: [], vendor: []};
const slots = {};

function compile(pattern) {
  const names = [];
  const source = pattern.replace(/\/:(\w+)/g, (_, name) => {
    names.push(name);
    return "/([^/]+)";
  });
  return {regex: new RegExp(`^${source}/?$`), names};
}

export const registry = {
  /** Add a page at `pattern` (":name" segments become ctx.params.name). Later
   * registrations of the same pattern replace earlier ones (an extension may override). */
  page(pattern, page) {
    const existing = routes.findIndex((r) => r.pattern === pattern);
    const route = {pattern, page, ...compile(pattern)};
    if (existing >= 0) routes[existing] = route;
    else routes.push(route);
  },
  /** Add a menu item to the storefront ("shop") or the vendor dashboard ("vendor") menu. */
  nav(menu, item) {
    navs[menu].push(item);
    navs[menu].sort((a, b) => (a.order ?? 50) - (b.order ?? 50));
  },
  navItems(menu) {
    return navs[menu];
  },
  /** Add an item to a page's slot (see above). */
  slot(name, item) {
    (slots[name] = slots[name] || []).push(item);
    slots[name].sort((a, b) => (a.order ?? 50) - (b.order ?? 50));
  },
  slots(name) {
    return slots[name] || [];
  },
  match(path) {
    for (const route of routes) {
      const m = route.regex.exec(path);
      if (m) {
        const params = {};
        route.names.forEach((n, i) => (params[n] = decodeURIComponent(m[i + 1])));
        return {route, params};
      }
    }
    return null;
  },
};

/** "/cart" -> "/shop/cart" */
export const href = (path) => `${BASE}${path === "/" ? "/" : path}`;

/** The path below the base, e.g. "/p/acme/pads". */
export function currentPath() {
  const path = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) : location.pathname;
  return path || "/";
}

let navigator = null;

/** Go to a path below the base ("/cart", "/p/acme/pads?x=1"); set up by app.js. */
export function navigate(path, options) {
  return navigator(path, options);
}

export function setNavigator(fn) {
  navigator = fn;
}

/** The fields the slot's items select on its object (joined into the page's selection). */
export function slotFields(name, ctx) {
  return registry.slots(name).map((item) => (typeof item.fields === "function" ? item.fields(ctx) : item.fields || "")).join(" ");
}

/** Join the slot items' top-level query parts into a page's part ({fields, variables}). */
export function withSlotQueries(name, ctx, part) {
  const extra = registry.slots(name).map((item) => item.query?.(ctx)).filter(Boolean);
  if (!extra.length) return part;
  const out = {fields: part?.fields || "", variables: {...(part?.variables || {})}};
  for (const piece of extra) {
    out.fields = `${out.fields} ${piece.fields || ""}`;
    Object.assign(out.variables, piece.variables || {});
  }
  return out;
}

/** Draw the slot's items for `object` (an item that fails is logged and left out). */
export function renderSlot(name, object, ctx) {
  return registry.slots(name).map((item) => {
    try {
      return item.render(object, ctx);
    } catch (error) {
      console.error(`slot ${name}`, error);
      return null;
    }
  });
}
