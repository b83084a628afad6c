// Boot: load the extensions, then render the page the URL names. Each page is one GraphQL
// request: the page's fields plus the header's (who is signed in, the cart's count).

import {ApiError, EXTENSIONS, gql, mutate, session} from "sf/core/api.js";
import {currentPath, href, registry, setNavigator} from "sf/core/router.js";
import {h, replace} from "sf/core/dom.js";
import {LANGUAGES, lang, setLang, t} from "sf/core/i18n.js";
import {errorBox} from "sf/core/components.js";
import "sf/pages/index.js";

const main = document.getElementById("main");
const header = document.getElementById("sf-header");
let sequence = 0;
let lastCtx = null;

const HEADER_SIGNED_IN = `me { id email firstName lastName roles vendorRoles { role vendor { id slug nameZh nameEn status } } }
  sfCart: myCheckout { token quantity }`;
const HEADER_ANON_CART = "sfCart: checkout(token: $sfCartToken) { token quantity }";

function documentFor(part, signedIn) {
  const variables = {}, defs = [];
  for (const [key, [type, value]] of Object.entries(part?.variables || {})) {
    defs.push(`$${key}: ${type}`);
    variables[key] = value;
  }
  let headerFields = signedIn ? HEADER_SIGNED_IN : "";
  if (!signedIn && session.cartToken) {
    defs.push("$sfCartToken: UUID!");
    variables.sfCartToken = session.cartToken;
    headerFields = HEADER_ANON_CART;
  }
  const body = `${headerFields}\n${part?.fields || ""}`.trim() || "__typename";
  return {query: `query Page${defs.length ? `(${defs.join(", ")})` : ""} {\n${body}\n}`, variables};
}

function navigate(path, {replace: replaceState = false} = {}) {
  const url = path.startsWith("/shop") ? path : href(path);
  if (replaceState) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  return show({navigated: true});
}

function focusKey(el) {
  return el && el !== document.body ? el.getAttribute("data-key") || (el.name ? `name:${el.name}` : null) : null;
}

async function show({navigated = false, keepFocus = false} = {}) {
  const seq = ++sequence;
  const path = currentPath();
  const match = registry.match(path) || registry.match("/404");
  const {page} = match.route;
  const focused = keepFocus ? focusKey(document.activeElement) : null;
  const ctx = {
    path, params: match.params, query: new URLSearchParams(location.search), session, navigate,
    refresh: () => show({keepFocus: true}), data: null, me: null, cart: null, lastCtx,
  };
  if (page.auth && !session.signedIn) {
    return navigate(`/signin?next=${encodeURIComponent(path + location.search)}`, {replace: true});
  }
  main.setAttribute("aria-busy", "true");
  const {query, variables} = documentFor(page.query ? page.query(ctx) : null, session.signedIn);
  let failure = null;
  try {
    ctx.data = await gql(query, variables);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    failure = error;
    ctx.data = error.data || null;
  }
  if (seq !== sequence) return;  // a newer navigation won
  if (!session.signedIn && session.cartToken && ctx.data && ctx.data.sfCart === null) session.cartToken = null;
  ctx.me = ctx.data?.me || null;
  ctx.cart = ctx.data?.sfCart || null;
  if (page.auth && session.signedIn && !ctx.me && !failure) {
    return navigate(`/signin?next=${encodeURIComponent(path + location.search)}`, {replace: true});
  }
  lastCtx = ctx;
  renderHeader(ctx);
  let content;
  if (failure && !ctx.data) content = errorBox(failure);
  else {
    try {
      content = [failure ? errorBox(failure) : null, page.render(ctx)];
    } catch (error) {
      console.error(error);
      content = errorBox(error);
    }
  }
  replace(main, content);
  const title = page.title ? page.title(ctx.data || {}, ctx) : "";
  document.title = title ? `${title} · ${t("汽配商城", "Auto Parts Mall")}` : t("汽配商城", "Auto Parts Mall");
  document.documentElement.dataset.route = match.route.pattern;
  main.setAttribute("aria-busy", "false");
  if (focused) {
    const target = focused.startsWith("name:")
      ? main.querySelector(`[name="${CSS.escape(focused.slice(5))}"]`) : main.querySelector(`[data-key="${CSS.escape(focused)}"]`);
    target?.focus();
  } else if (navigated) {
    const heading = main.querySelector("h1");
    if (heading) {
      heading.setAttribute("tabindex", "-1");
      heading.focus({preventScroll: true});
    }
    window.scrollTo(0, 0);
  }
  if (!performance.getEntriesByName("sf-first-render").length) performance.mark("sf-first-render");
}

function renderHeader(ctx) {
  const items = registry.navItems("shop").filter((item) => !item.show || item.show(ctx));
  const other = LANGUAGES.find(([code]) => code !== lang);
  replace(header,
    h("div", {class: "bar"},
      h("a", {class: "brand", href: href("/")}, t("汽配商城", "Auto Parts Mall")),
      h("nav", {"aria-label": t("主导航", "Main")},
        h("ul", {class: "nav"}, items.map((item) => {
          const current = item.path === "/" ? ctx.path === "/" : ctx.path.startsWith(item.path);
          return h("li", {}, h("a", {href: href(item.path), "aria-current": current ? "page" : false},
            typeof item.label === "function" ? item.label(ctx) : item.label));
        }))),
      h("div", {class: "tools"},
        ctx.me ? h("span", {class: "who"}, ctx.me.email) : null,
        ctx.me ? h("button", {type: "button", class: "link", onclick: signOut}, t("退出", "Sign out"))
          : h("a", {href: href(`/signin?next=${encodeURIComponent(ctx.path)}`)}, t("登录", "Sign in")),
        h("button", {type: "button", class: "lang", lang: other[0], "aria-label": other[0] === "en" ? "English" : "切换到中文",
          onclick: () => { setLang(other[0]); show({keepFocus: false}); }}, other[1]))));
}

async function signOut() {
  try {
    await mutate("mutation { logout { errors { code } } }");
  } catch { /* signed out locally either way */ }
  session.clear();
  navigate("/");
}

document.addEventListener("click", (event) => {
  const a = event.target.closest("a[href]");
  if (!a || a.target || a.hasAttribute("download") || event.defaultPrevented || event.button !== 0 ||
      event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || !url.pathname.startsWith("/shop")) return;
  event.preventDefault();
  navigate(url.pathname + url.search);
});
window.addEventListener("popstate", () => show());
// A page changed the cart without re-rendering: update the header's count.
document.addEventListener("sf:cart", (event) => {
  for (const el of header.querySelectorAll(".cart-count")) el.textContent = String(event.detail?.quantity ?? 0);
});

setNavigator(navigate);

async function boot() {
  for (const specifier of EXTENSIONS) {
    try {
      const module = await import(specifier);
      module.register?.(registry);
    } catch (error) {
      console.error(`storefront extension ${specifier} failed`, error);
    }
  }
  await show();
}

boot();
