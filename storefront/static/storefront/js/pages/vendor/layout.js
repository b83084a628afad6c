// The vendor dashboard's frame: which vendor, the signed-in user's role there, and the
// dashboard menu (registry.nav("vendor", …); items may require a role).

import {ERROR_FIELDS, mutate} from "sf/core/api.js";
import {formErrors, h, showErrors} from "sf/core/dom.js";
import {label, name, t} from "sf/core/i18n.js";
import {href, navigate, registry} from "sf/core/router.js";
import {badge, empty, pageHeader} from "sf/core/components.js";

export const MANAGERS = ["OWNER", "MANAGER"];

/** The signed-in user's role at the vendor (from the header's me.vendorRoles), or null. */
export function roleAt(ctx, vendorId) {
  return ctx.me?.vendorRoles.find((r) => r.vendor.id === vendorId) || null;
}

export const vendorPath = (vendorId, rest = "") => `/vendor/${encodeURIComponent(vendorId)}${rest}`;

/** Dashboard page frame; `active` is the menu item's key. Refuses users without a role. */
export function frame(ctx, active, title, ...content) {
  const vendorId = ctx.params.vendorId;
  const role = roleAt(ctx, vendorId);
  if (!role) {
    return [pageHeader(t("店铺后台", "Vendor dashboard")),
      empty(t("您不是该店铺的员工。", "You do not work for this vendor."), h("a", {href: href("/vendor")}, t("我的店铺", "My shops")))];
  }
  const items = registry.navItems("vendor").filter((item) => !item.roles || item.roles.includes(role.role));
  return h("div", {class: "dashboard"},
    h("div", {class: "dash-head"},
      h("p", {class: "meta"}, h("a", {href: href("/vendor")}, t("店铺后台", "Vendor dashboard")), " / ",
        h("strong", {}, name(role.vendor)), " ", badge(role.role)),
      h("nav", {"aria-label": t("店铺后台菜单", "Dashboard menu")},
        h("ul", {class: "tabs"}, items.map((item) => h("li", {},
          h("a", {href: href(vendorPath(vendorId, item.path)), "aria-current": item.key === active ? "page" : false},
            typeof item.label === "function" ? item.label() : item.label)))))),
    h("h1", {}, title),
    content);
}

/** Hide what a role may not do, with the reason (the API refuses it anyway). */
export function requireRole(ctx, roles, content) {
  const role = roleAt(ctx, ctx.params.vendorId);
  if (role && roles.includes(role.role)) return content;
  return h("p", {class: "notice"}, t("只有店主或经理可以操作。", "Only the owner or a manager can do this."));
}

registry.page("/vendor", {
  auth: "member",
  title: () => t("店铺后台", "Vendor dashboard"),
  render(ctx) {
    const roles = ctx.me?.vendorRoles || [];
    return [
      pageHeader(t("店铺后台", "Vendor dashboard")),
      roles.length ? h("ul", {class: "list"}, roles.map((r) => h("li", {class: "card row"},
        h("div", {}, h("a", {class: "strong", href: href(vendorPath(r.vendor.id, "/orders"))}, name(r.vendor)),
          h("p", {class: "meta"}, label(r.role), " · ", label(r.vendor.status))),
        h("div", {class: "actions"},
          h("a", {class: "button secondary", href: href(vendorPath(r.vendor.id, "/products"))}, t("商品", "Products")),
          h("a", {class: "button secondary", href: href(vendorPath(r.vendor.id, "/orders"))}, t("订单", "Orders"))))))
        : empty(t("您还不是任何店铺的员工。", "You do not work for any vendor yet.")),
      h("p", {class: "help"}, t("平台运营人员请使用 ", "Platform operators use the "), h("a", {href: "/admin/"}, "Django admin"), "."),
    ];
  },
});

registry.page("/vendor/invitation", {
  auth: "member",
  title: () => t("接受邀请", "Accept the invitation"),
  render(ctx) {
    const box = h("section", {class: "narrow"}, pageHeader(t("加入店铺", "Join a shop")), formErrors(),
      h("p", {class: "field-error", "data-error-for": "token"}),
      h("button", {type: "button", class: "primary", onclick: async () => {
        const payload = await mutate(`mutation Accept($t: String!) { vendorInvitationAccept(token: $t) {
          vendor { id } role ${ERROR_FIELDS} } }`, {t: ctx.query.get("token") || ""});
        if (payload.errors.length) return showErrors(box, payload.errors);
        navigate(vendorPath(payload.vendor.id, "/orders"));
      }}, t("接受邀请", "Accept the invitation")));
    return box;
  },
});

registry.nav("vendor", {key: "orders", path: "/orders", label: () => t("订单", "Orders"), order: 10});
registry.nav("vendor", {key: "products", path: "/products", label: () => t("商品与库存", "Products and stock"), order: 20});
registry.nav("vendor", {key: "import", path: "/import", label: () => t("CSV 导入", "CSV import"), order: 30});
registry.nav("vendor", {key: "ledger", path: "/ledger", label: () => t("账本", "Ledger"), order: 40, roles: MANAGERS});
