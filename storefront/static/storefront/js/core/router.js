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

import {BASE} from "sf/core/api.js";

const routes = [];
const navs = {shop: [], vendor: []};

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
