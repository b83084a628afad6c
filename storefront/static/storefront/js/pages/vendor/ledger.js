// The vendor's ledger: what the platform owes it (balance), the commission paid, and the
// entries (sales, commission, refunds) newest first. Owners and managers.

import {h} from "sf/core/dom.js";
import {date, money, t} from "sf/core/i18n.js";
import {href, registry} from "sf/core/router.js";
import {MONEY, empty} from "sf/core/components.js";
import {MANAGERS, frame, requireRole, vendorPath} from "sf/pages/vendor/layout.js";

const KINDS = {sale: ["销售", "Sale"], refund: ["退款", "Refund"], tender: ["抵扣", "Tender"], payout: ["结算", "Payout"]};
const ACCOUNTS = {vendor_payable: ["应付店铺", "Owed to the shop"], platform_revenue: ["平台佣金", "Commission"]};
const words = (table, key) => (table[key] ? t(...table[key]) : key);

registry.page("/vendor/:vendorId/ledger", {
  auth: "member",
  title: () => t("账本", "Ledger"),
  query: (ctx) => (MANAGERS.includes(ctx.lastCtx?.me?.vendorRoles?.find((r) => r.vendor.id === ctx.params.vendorId)?.role) || !ctx.lastCtx
    ? {fields: `vendorLedger(vendorId: $vendorId) { balance { ${MONEY} } commissionPaid { ${MONEY} }
        entries(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor }
          edges { node { id createdAt kind account memo orderNumber amount { ${MONEY} } } } } }`,
    variables: {vendorId: ["ID!", ctx.params.vendorId], first: ["Int", 50], after: ["String", ctx.query.get("after")]}}
    : null),
  render(ctx) {
    const ledger = ctx.data?.vendorLedger;
    return frame(ctx, "ledger", t("账本", "Ledger"), requireRole(ctx, MANAGERS, ledger ? [
      h("div", {class: "stats"},
        h("div", {class: "card stat"}, h("p", {class: "meta"}, t("可结算余额", "Balance owed to you")), h("p", {class: "big-number", id: "ledger-balance"}, money(ledger.balance))),
        h("div", {class: "card stat"}, h("p", {class: "meta"}, t("已付佣金", "Commission paid")), h("p", {class: "big-number"}, money(ledger.commissionPaid)))),
      ledger.entries.edges.length ? h("div", {class: "table-wrap"}, h("table", {class: "data ledger"},
        h("caption", {}, t(`共 ${ledger.entries.totalCount} 笔`, `${ledger.entries.totalCount} entries`)),
        h("thead", {}, h("tr", {}, [t("时间", "When"), t("类型", "Kind"), t("账户", "Account"), t("订单", "Order"), t("说明", "Memo"), t("金额", "Amount")]
          .map((x) => h("th", {scope: "col"}, x)))),
        h("tbody", {}, ledger.entries.edges.map(({node: e}) => h("tr", {},
          h("td", {}, date(e.createdAt)), h("td", {}, words(KINDS, e.kind)), h("td", {}, words(ACCOUNTS, e.account)),
          h("td", {}, e.orderNumber || "—"), h("td", {}, e.memo), h("td", {class: `num ${e.amount.amount.startsWith("-") ? "neg" : ""}`}, money(e.amount)))))))
        : empty(t("还没有账目。", "No entries yet.")),
      ledger.entries.pageInfo.hasNextPage ? h("a", {class: "button secondary",
        href: href(`${vendorPath(ctx.params.vendorId, "/ledger")}?after=${encodeURIComponent(ledger.entries.pageInfo.endCursor)}`)},
      t("更早的账目", "Older entries")) : null] : null));
  },
});
