// The store-loyalty plugin's pages (docs/storefront.md, docs/loyalty.md), on the public
// GraphQL API only:
//   /points                 my VIP accounts per store: tier, next tier, points, cashback, history
//   checkout                pay with a store's points and cashback (slot "checkout": vipRedeem)
//   dashboard /vip          the programme (switch on, points, cashback, stacking), tiers, segments

import {ERROR_FIELDS, mutate} from "sf/core/api.js";
import {field, formErrors, h, onSubmit, showErrors} from "sf/core/dom.js";
import {date, label, money, name, t} from "sf/core/i18n.js";
import {href} from "sf/core/router.js";
import {MONEY, empty, pageHeader} from "sf/core/components.js";
import {MANAGERS, frame, roleAt} from "sf/pages/vendor/layout.js";

const WORDS = {
  DISABLED: ["未开启", "Off"], ENABLED: ["已开启", "On"], GRACE: ["宽限期", "Grace period"], SUSPENDED: ["已暂停", "Suspended"],
  STACK: ["与会员价叠加", "Stacks with the member price"], BEST_OF: ["与会员价取优", "Best of it and the member price"],
};
const word = (value) => (WORDS[value] ? t(...WORDS[value]) : label(value));
const ACCOUNT = `id store { id slug nameZh nameEn } tier { rank nameZh nameEn percentOff } nextTier { nameZh nameEn }
  spendToNextTier { ${MONEY} } netSpend { ${MONEY} } protectedUntil
  points { available pending debt value { ${MONEY} } } cashback { available { ${MONEY} } pending { ${MONEY} } debt { ${MONEY} } }
  program { status pointsPerCny maxRedeemPercent }`;
const tierName = (tier) => (tier ? name(tier) : t("普通", "No tier"));
const int = (value) => (value === "" || value === undefined ? null : Number(value));
const dec = (value) => (value === "" || value === undefined ? null : value);

function accountCard(a) {
  return h("li", {class: "card vip-account"},
    h("h2", {}, name(a.store), " ", h("span", {class: "badge badge-member"}, tierName(a.tier))),
    h("div", {class: "stats"},
      h("div", {class: "stat"}, h("p", {class: "meta"}, t("可用积分", "Points")), h("p", {class: "big-number points"}, a.points.available),
        h("p", {class: "meta"}, t("价值 ", "worth "), money(a.points.value), a.points.pending ? t(`，待入账 ${a.points.pending}`, `, ${a.points.pending} pending`) : "")),
      h("div", {class: "stat"}, h("p", {class: "meta"}, t("可用返现", "Cashback")), h("p", {class: "big-number cashback"}, money(a.cashback.available)),
        Number(a.cashback.pending.amount) ? h("p", {class: "meta"}, t("待入账 ", "pending "), money(a.cashback.pending)) : null)),
    h("p", {class: "meta"}, t("近12个月消费 ", "Spent in 12 months "), money(a.netSpend),
      a.nextTier ? [" · ", t(`再消费 ${money(a.spendToNextTier)} 升级为${name(a.nextTier)}`, `${money(a.spendToNextTier)} more to ${name(a.nextTier)}`)] : null,
      a.tier?.percentOff && Number(a.tier.percentOff) ? [" · ", t(`本店 ${Number(a.tier.percentOff)}% 折扣`, `${Number(a.tier.percentOff)}% off here`)] : null),
    Number(a.points.debt) || Number(a.cashback.debt.amount) ? h("p", {class: "warn"}, t("有待抵扣的欠额，暂不能使用。", "You owe credit back: redeeming waits until it is paid.")) : null);
}

/** Checkout: per store in the cart where the member holds points or cashback, a redeem form. */
function redeem(cart, ctx) {
  const accounts = ctx.data.sfVipAccounts || [];
  const forms = cart.vendors.filter((part) => part.vendor).map((part) => {
    const a = accounts.find((x) => x.store.id === part.vendor.id);
    if (!a || (!a.points.available && !Number(a.cashback.available.amount))) return null;
    const applied = cart.adjustments.filter((x) => x.kind === "TENDER" && x.source && x.source.startsWith("vip"));
    return h("form", {class: "card stack vip-redeem", novalidate: true, "aria-label": t(`${name(part.vendor)} 积分与返现`, `Points and cashback at ${name(part.vendor)}`),
      onsubmit: onSubmit(async (values, form) => {
        const payload = await mutate(`mutation Redeem($t: UUID!, $v: ID!, $p: Int, $c: Decimal) {
          vipRedeem(token: $t, vendorId: $v, points: $p, cashback: $c) { pointsUsed cashbackUsed { ${MONEY} } ${ERROR_FIELDS} } }`,
        {t: cart.token, v: part.vendor.id, p: values.points === "" ? 0 : Number.isInteger(Number(values.points)) ? Number(values.points) : -1,
          c: values.cashback === "" ? "0" : values.cashback});
        if (payload.errors.length) return showErrors(form, payload.errors);
        ctx.refresh();
      })},
    h("h2", {}, name(part.vendor), t(" 积分与返现", ": points and cashback")),
    h("p", {class: "meta"}, t(`可用积分 ${a.points.available}（${a.program.pointsPerCny} 积分 = ¥1），返现 `, `${a.points.available} points (${a.program.pointsPerCny} = ¥1), cashback `),
      money(a.cashback.available), t(`；最多抵扣本店商品的 ${Number(a.program.maxRedeemPercent)}%`, `; up to ${Number(a.program.maxRedeemPercent)}% of this shop's goods`)),
    h("div", {class: "grid-fields"},
      field({label: t("使用积分", "Points to use"), name: "points", type: "number", min: 0, step: 1, inputmode: "numeric", value: ""}),
      field({label: t("使用返现", "Cashback to use"), name: "cashback", inputmode: "decimal", value: ""})),
    applied.length ? h("p", {class: "notice"}, applied.map((x) => [x.label || x.source, " ", money(x.applied), " "])) : null,
    formErrors(),
    h("button", {type: "submit", class: "secondary"}, t("抵扣", "Apply")));
  });
  return forms.some(Boolean) ? h("div", {class: "vip-redeems"}, forms) : null;
}

/* ---- the dashboard ---- */

function programForm(ctx, program) {
  return h("form", {class: "card stack vip-program", novalidate: true, onsubmit: onSubmit(async (values, form) => {
    const input = {enabled: values.enabled, stacking: values.stacking, pointsEnabled: values.pointsEnabled,
      earnPointsPerCny: dec(values.earnPointsPerCny), cashbackEnabled: values.cashbackEnabled, cashbackPercent: dec(values.cashbackPercent),
      cashbackCap: dec(values.cashbackCap)};
    const payload = await mutate(`mutation Program($v: ID!, $i: VipProgramInput!) { vipProgramUpdate(vendorId: $v, input: $i) {
      program { status } ${ERROR_FIELDS} } }`, {v: ctx.params.vendorId, i: input});
    if (payload.errors.length) return showErrors(form, payload.errors);
    ctx.refresh();
  })},
  h("h2", {}, t("会员计划", "Programme"), " ", h("span", {class: `badge badge-${program.status.toLowerCase()}`}, word(program.status))),
  h("p", {class: "meta"}, t(`在售商品 ${program.productCount} 件（至少 ${program.minProducts} 件才能开启）`, `${program.productCount} products listed (${program.minProducts} needed)`),
    program.graceEndsAt ? [" · ", t("宽限期至 ", "grace until "), date(program.graceEndsAt)] : null),
  h("div", {class: "check"}, h("input", {type: "checkbox", id: "vip-enabled", name: "enabled", checked: program.enabled, "aria-describedby": "vip-enabled-error"}),
    h("label", {for: "vip-enabled"}, t("开启会员等级", "Run the programme"))),
  h("p", {class: "field-error", id: "vip-enabled-error", "data-error-for": "enabled", "aria-live": "polite"}),
  field({label: t("与平台会员价", "With the member price"), name: "stacking", value: program.stacking, choices: [["STACK", word("STACK")], ["BEST_OF", word("BEST_OF")]]}),
  h("div", {class: "check"}, h("input", {type: "checkbox", id: "vip-points", name: "pointsEnabled", checked: program.pointsEnabled}),
    h("label", {for: "vip-points"}, t("积分", "Points"))),
  h("div", {class: "grid-fields"},
    field({label: t("每消费 ¥1 得积分", "Points per ¥1"), name: "earnPointsPerCny", inputmode: "decimal", value: program.earnPointsPerCny}),
    field({label: t("返现比例 %", "Cashback %"), name: "cashbackPercent", inputmode: "decimal", value: program.cashbackPercent}),
    field({label: t("单笔返现上限", "Cashback cap"), name: "cashbackCap", inputmode: "decimal", value: program.cashbackCap?.amount ?? ""})),
  h("div", {class: "check"}, h("input", {type: "checkbox", id: "vip-cashback", name: "cashbackEnabled", checked: program.cashbackEnabled}),
    h("label", {for: "vip-cashback"}, t("返现", "Cashback"))),
  formErrors(),
  h("button", {type: "submit", class: "primary"}, t("保存", "Save")));
}

function tierForm(ctx) {
  return h("details", {class: "card new-tier"}, h("summary", {class: "strong"}, t("新增等级", "New tier")),
    h("form", {class: "stack", novalidate: true, onsubmit: onSubmit(async (values, form) => {
      const input = {rank: int(values.rank), nameZh: values.nameZh, nameEn: values.nameEn, threshold: dec(values.threshold),
        percentOff: dec(values.percentOff), pointsMultiplier: dec(values.pointsMultiplier)};
      const payload = await mutate(`mutation Tier($v: ID!, $i: VipTierInput!) { vipTierCreate(vendorId: $v, input: $i) { tier { id } ${ERROR_FIELDS} } }`,
        {v: ctx.params.vendorId, i: input});
      if (payload.errors.length) return showErrors(form, payload.errors);
      ctx.refresh();
    })},
    h("div", {class: "grid-fields"},
      field({label: t("级别（数字越大越高）", "Rank (higher is better)"), name: "rank", type: "number", min: 1, required: true}),
      field({label: t("名称", "Name"), name: "nameZh", required: true}),
      field({label: t("英文名称", "English name"), name: "nameEn"}),
      field({label: t("升级门槛（12个月消费）", "Threshold (12-month spend)"), name: "threshold", inputmode: "decimal", required: true}),
      field({label: t("折扣 %", "Percent off"), name: "percentOff", inputmode: "decimal", value: "0"}),
      field({label: t("积分倍数", "Points multiplier"), name: "pointsMultiplier", inputmode: "decimal", value: "1"})),
    formErrors(),
    h("button", {type: "submit", class: "primary"}, t("添加等级", "Add the tier"))));
}

function segmentForm(ctx) {
  const example = JSON.stringify({all: [{fact: "net_spend", op: "gte", value: "500", days: 180}]});
  return h("details", {class: "card new-segment"}, h("summary", {class: "strong"}, t("新建客户分群", "New segment")),
    h("form", {class: "stack", novalidate: true, onsubmit: onSubmit(async (values, form) => {
      let rule;
      try {
        rule = JSON.parse(values.rule || "null");
      } catch {
        return showErrors(form, [{field: "rule", code: "INVALID", message: t("规则不是有效的 JSON。", "The rule is not valid JSON.")}]);
      }
      const payload = await mutate(`mutation Segment($v: ID!, $i: VipSegmentInput!) { vipSegmentCreate(vendorId: $v, input: $i) {
        segment { id } ${ERROR_FIELDS} } }`, {v: ctx.params.vendorId, i: {name: values.name, rule}});
      if (payload.errors.length) {
        return showErrors(form, payload.errors.map((e) => (e.field && e.field.startsWith("rule.")
          ? {...e, field: "rule", message: `${e.message} (${e.field.slice(5)})`} : e)));
      }
      ctx.refresh();
    })},
    field({label: t("名称", "Name"), name: "name", required: true}),
    field({label: t("规则（JSON）", "Rule (JSON)"), name: "rule", type: "textarea", rows: 4, value: example, required: true,
      help: t("条件：net_spend、order_count、last_order_days、tier、points、cashback、member、vehicle、district、city。",
        "Facts: net_spend, order_count, last_order_days, tier, points, cashback, member, vehicle, district, city.")}),
    formErrors(),
    h("button", {type: "submit", class: "primary"}, t("创建", "Create"))));
}

function vipPage(ctx) {
  const program = ctx.data?.vipProgram;
  const manager = MANAGERS.includes(roleAt(ctx, ctx.params.vendorId)?.role);
  const segments = ctx.data?.vipSegments || [];
  if (!program) return frame(ctx, "vip", t("会员等级", "VIP programme"), empty(t("暂无会员计划。", "No programme.")));
  return frame(ctx, "vip", t("会员等级", "VIP programme"),
    manager ? programForm(ctx, program) : h("p", {}, word(program.status)),
    h("div", {class: "table-wrap"}, h("table", {class: "data tiers-table"},
      h("caption", {}, t("等级", "Tiers")),
      h("thead", {}, h("tr", {}, [t("级别", "Rank"), t("名称", "Name"), t("门槛", "Threshold"), t("折扣", "Off"), t("积分倍数", "Points x")].map((x) => h("th", {scope: "col"}, x)))),
      h("tbody", {}, program.tiers.map((tier) => h("tr", {}, h("td", {class: "num"}, tier.rank), h("td", {}, name(tier)),
        h("td", {class: "num"}, money(tier.threshold)), h("td", {class: "num"}, `${Number(tier.percentOff)}%`), h("td", {class: "num"}, Number(tier.pointsMultiplier))))))),
    manager ? tierForm(ctx) : null,
    h("h2", {}, t("客户分群", "Segments")),
    segments.length ? h("ul", {class: "list segments"}, segments.map((s) => h("li", {class: "card"},
      h("p", {class: "strong"}, s.name, " · ", t(`${s.memberCount} 人`, `${s.memberCount} customers`)),
      h("p", {class: "meta"}, s.computedAt ? [t("计算于 ", "computed "), date(s.computedAt)] : null),
      h("pre", {}, JSON.stringify(s.rule))))) : empty(t("还没有分群。", "No segments yet.")),
    manager ? segmentForm(ctx) : null);
}

export function register(registry) {
  registry.page("/points", {
    auth: "member",
    title: () => t("积分与返现", "Points and cashback"),
    query: () => ({fields: `myVipAccounts { ${ACCOUNT} }`}),
    render: (ctx) => [pageHeader(t("积分与返现", "Points and cashback")),
      (ctx.data.myVipAccounts || []).length ? h("ul", {class: "list"}, ctx.data.myVipAccounts.map(accountCard))
        : empty(t("还没有店铺会员账户；在支持积分的店铺购物即可获得。", "No store account yet: buy at a store with a programme to earn."),
          h("a", {href: href("/")}, t("去逛逛", "Start shopping")))],
  });
  registry.nav("shop", {path: "/points", label: () => t("积分", "Points"), order: 47, show: (ctx) => Boolean(ctx.me)});
  registry.slot("checkout", {
    fields: "adjustments { source label kind applied { amount currency } }",
    query: (ctx) => (ctx.session.signedIn ? {fields: `sfVipAccounts: myVipAccounts { store { id } points { available value { ${MONEY} } }
      cashback { available { ${MONEY} } } program { pointsPerCny maxRedeemPercent } }`} : null),
    render: redeem,
  });
  registry.page("/vendor/:vendorId/vip", {
    auth: "member",
    title: () => t("会员等级", "VIP programme"),
    query: (ctx) => ({fields: `vipProgram(vendorId: $vendorId) { status enabled stacking pointsEnabled earnPointsPerCny cashbackEnabled
        cashbackPercent cashbackCap { ${MONEY} } productCount minProducts graceEndsAt
        tiers { id rank nameZh nameEn threshold { ${MONEY} } percentOff pointsMultiplier } }
      vipSegments(vendorId: $vendorId) { id name memberCount computedAt rule }`,
    variables: {vendorId: ["ID!", ctx.params.vendorId]}}),
    render: vipPage,
  });
  registry.nav("vendor", {key: "vip", path: "/vip", label: () => t("会员等级", "VIP programme"), order: 35, roles: MANAGERS});
}
