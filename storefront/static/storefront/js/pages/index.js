// The built-in pages, and the storefront's menu. Each module registers its routes with
// the registry (sf/core/router.js); extensions (plugins) register theirs the same way.

import {h} from "sf/core/dom.js";
import {t} from "sf/core/i18n.js";
import {href, registry} from "sf/core/router.js";
import {empty, pageHeader} from "sf/core/components.js";

import "sf/pages/shop/home.js";
import "sf/pages/shop/product.js";
import "sf/pages/shop/account.js";
import "sf/pages/shop/garage.js";
import "sf/pages/shop/cart.js";
import "sf/pages/shop/checkout.js";
import "sf/pages/shop/orders.js";
import "sf/pages/vendor/layout.js";
import "sf/pages/vendor/products.js";
import "sf/pages/vendor/import.js";
import "sf/pages/vendor/orders.js";
import "sf/pages/vendor/ledger.js";

registry.page("/404", {
  title: () => t("页面不存在", "Page not found"),
  render: () => [pageHeader(t("页面不存在", "Page not found")),
    empty(t("这个地址没有页面。", "There is no page at this address."), h("a", {href: href("/")}, t("返回首页", "Back to the shop")))],
});

registry.nav("shop", {path: "/", label: () => t("首页", "Home"), order: 10});
registry.nav("shop", {path: "/garage", label: () => t("我的车库", "My garage"), order: 20, show: (ctx) => Boolean(ctx.me)});
registry.nav("shop", {path: "/orders", label: () => t("我的订单", "My orders"), order: 40, show: (ctx) => Boolean(ctx.me)});
registry.nav("shop", {path: "/cart", order: 30, label: (ctx) => [t("购物车", "Cart"), " ",
  h("span", {class: "cart-count"}, String(ctx.cart?.quantity ?? 0)), h("span", {class: "sr-only"}, t(" 件商品", " items"))]});
registry.nav("shop", {path: "/vendor", label: () => t("店铺后台", "Dashboard"), order: 60,
  show: (ctx) => Boolean(ctx.me?.vendorRoles?.length)});
