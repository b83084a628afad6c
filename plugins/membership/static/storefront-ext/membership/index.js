// The membership plugin's storefront pages (docs/storefront.md, docs/membership.md), built
// on the public GraphQL API only:
//   /membership             plans, my membership (status, dates, benefits, savings), join
//   product page            the member-price upsell under each variant's price (slot "product.variant")
//   cart                    "join and save now" (slot "cart")
//   checkout                the driving school's partner code (slot "checkout")

import {ERROR_FIELDS, mutate} from "sf/core/api.js";
import {field, formErrors, h, onSubmit, replace, showErrors} from "sf/core/dom.js";
import {date, label, money, name, t} from "sf/core/i18n.js";
import {href, navigate} from "sf/core/router.js";
import {MONEY, addToCart, empty, pageHeader} from "sf/core/components.js";

const STATUS = {
  ACTIVE: ["有效", "Active"], SCHEDULED: ["已续期（未开始）", "Renewal scheduled"], PENDING: ["待付款", "Awaiting payment"],
  EXPIRED: ["已过期", "Expired"], REFUNDED: ["已退款", "Refunded"], REVOKED: ["已撤销", "Revoked"], VOID: ["已作废", "Void"],
};
const statusWord = (s) => (STATUS[s] ? t(...STATUS[s]) : label(s));
const BENEFITS = "partsDiscountPercent labourDiscountPercent freeTowingPerTerm freeTowingKm";
const PLAN_FIELDS = `id code nameZh nameEn termMonths price { ${MONEY} } benefits { ${BENEFITS} }`;
const percent = (value) => `${Number(value)}%`;

/** Put the plan's membership line in the member's cart (with a partner code); returns the payload. */
export function joinInCart(plan, code) {
  const metadata = code ? {code} : {};
  return addToCart([{kind: "membership", reference: plan, quantity: 1, metadata}]);
}

function benefitList(benefits) {
  return h("ul", {class: "plain benefits"},
    h("li", {}, t(`配件会员价 ${percent(benefits.partsDiscountPercent)} 折扣`, `${percent(benefits.partsDiscountPercent)} off parts`)),
    h("li", {}, t(`合作门店工时费 ${percent(benefits.labourDiscountPercent)} 折扣`, `${percent(benefits.labourDiscountPercent)} off labour at partner shops`)),
    h("li", {}, t(`每期免费道路救援 ${benefits.freeTowingPerTerm} 次（每次 ${benefits.freeTowingKm} 公里内）`,
      `${benefits.freeTowingPerTerm} free tows a term (up to ${benefits.freeTowingKm} km each)`),
    benefits.freeTowingLeft !== null && benefits.freeTowingLeft !== undefined
      ? t(`，剩余 ${benefits.freeTowingLeft} 次`, `, ${benefits.freeTowingLeft} left`) : null));
}

function statusCard(m) {
  return h("section", {class: "card membership-status", "aria-labelledby": "my-membership"},
    h("h2", {id: "my-membership"}, t("我的会员", "My membership"), " ", h("span", {class: `badge badge-${m.status.toLowerCase()}`}, statusWord(m.status))),
    h("p", {}, h("strong", {}, name(m.plan)),
      m.startsAt ? [" · ", date(m.startsAt), " – ", date(m.endsAt)] : null),
    m.status === "PENDING" && m.orderNumber ? h("p", {class: "notice"}, t("付款后会员生效。", "The membership starts once it is paid."), " ",
      h("a", {href: href(`/pay/${encodeURIComponent(m.orderNumber)}`)}, t("去支付", "Pay now"))) : null,
    benefitList(m.benefits),
    ["ACTIVE", "SCHEDULED"].includes(m.status) ? h("p", {class: "big-number savings"}, t("本期已省 ", "Saved this term "), money(m.savingsThisTerm)) : null,
    m.renewal ? h("p", {class: "meta"}, t("续期：", "Renewal: "), statusWord(m.renewal.status), " ", date(m.renewal.startsAt), " – ", date(m.renewal.endsAt)) : null,
    m.partnerCode ? h("p", {class: "meta"}, t("合作码 ", "Partner code "), h("code", {}, m.partnerCode)) : null,
    m.benefitsUsed.length ? h("div", {class: "table-wrap"}, h("table", {class: "data"},
      h("caption", {}, t("已使用的权益", "Benefits used")),
      h("thead", {}, h("tr", {}, [t("时间", "When"), t("权益", "Benefit"), t("价值", "Value")].map((x) => h("th", {scope: "col"}, x)))),
      h("tbody", {}, m.benefitsUsed.map((u) => h("tr", {}, h("td", {}, date(u.usedAt)),
        h("td", {}, u.kind === "towing" ? t("免费救援", "Free tow") : u.kind === "labour" ? t("工时优惠", "Labour discount") : u.kind),
        h("td", {class: "num"}, money(u.value))))))) : null);
}

function joinForm(ctx, plan, member) {
  return h("form", {class: "card stack join-plan", novalidate: true, "aria-label": t(`加入 ${name(plan)}`, `Join ${name(plan)}`),
    onsubmit: onSubmit(async (values, form) => {
      if (!ctx.me) return navigate(`/signin?next=${encodeURIComponent("/membership")}`);
      const payload = await joinInCart(plan.code, values.code);
      if (payload.errors.length) return showErrors(form, payload.errors);
      document.dispatchEvent(new CustomEvent("sf:cart", {detail: payload.checkout}));
      navigate("/cart");
    })},
  h("h2", {}, name(plan)),
  h("p", {class: "price-final"}, money(plan.price), h("span", {class: "meta"}, t(` / ${plan.termMonths} 个月`, ` / ${plan.termMonths} months`))),
  benefitList(plan.benefits),
  field({label: t("驾校合作码（可选）", "Driving-school partner code (optional)"), name: "code", autocomplete: "off",
    help: t("驾校学员可享会员费优惠。", "Driving-school students pay less.")}),
  formErrors(),
  h("button", {type: "submit", class: "primary"}, member ? t("续费", "Renew") : t("加入会员", "Join")));
}

const MY_FIELDS = `id status startsAt endsAt orderNumber partnerCode pricePaid { ${MONEY} }
  plan { code nameZh nameEn } benefits { ${BENEFITS} freeTowingUsed freeTowingLeft }
  benefitsUsed { kind reference usedAt value { ${MONEY} } } savingsThisTerm { ${MONEY} }
  renewal { status startsAt endsAt }`;

function membershipPage(ctx) {
  const mine = ctx.data.myMembership;
  const plans = ctx.data.membershipPlans || [];
  const member = mine && ["ACTIVE", "SCHEDULED"].includes(mine.status);
  return [
    pageHeader(t("会员", "Membership")),
    h("p", {class: "help"}, t("加入会员：配件享会员价，合作门店工时费优惠，免费道路救援。同一购物车里加入，本单即享会员价。",
      "Members pay member prices on parts, less for labour at partner shops, and get free tows. Join in the same cart and this order is priced as a member's.")),
    mine ? statusCard(mine) : null,
    !ctx.me ? h("p", {class: "notice"}, h("a", {href: href("/signin?next=%2Fmembership")}, t("登录", "Sign in")), t("后加入会员。", " to join.")) : null,
    plans.length ? h("div", {class: "plans"}, plans.map((plan) => joinForm(ctx, plan, member))) : empty(t("暂无会员计划。", "No plan on sale.")),
  ];
}

/** Under a variant's price: the member price, or that the member already pays it. */
function upsell(variant, ctx) {
  const member = variant.price.adjustments.some((a) => a.source === "membership");
  if (member) return h("p", {class: "member-price is-member"}, h("span", {class: "badge badge-member"}, t("会员", "Member")), " ",
    t("您已享受会员价", "You pay the member price"));
  const preview = variant.memberPrice;
  if (!preview || preview.final.amount === variant.price.final.amount) return null;
  const box = h("div", {class: "member-price upsell"},
    h("p", {}, h("span", {class: "badge badge-member"}, t("会员价", "Member price")), " ", h("strong", {class: "member-final"}, money(preview.final)),
      " ", t("（加入会员，本单即享）", "(join and this order gets it)")),
    h("button", {type: "button", class: "secondary join-membership", onclick: async () => {
      if (!ctx.me) return navigate(`/signin?next=${encodeURIComponent(ctx.path)}`);
      const plan = (ctx.data.sfMembershipPlans || [])[0];
      if (!plan) return;
      const payload = await joinInCart(plan.code);
      if (payload.errors.length) return showErrors(box, payload.errors);
      document.dispatchEvent(new CustomEvent("sf:cart", {detail: payload.checkout}));
      // The cart now holds the membership: its goods are priced as a member's there.
      replace(box, h("p", {class: "member-price joined", role: "status"}, h("span", {class: "badge badge-member"}, t("会员", "Member")), " ",
        t(`会员已加入购物车，本单按会员价 ${money(preview.final)} 结算。`, `The membership is in your cart: this order pays the member price, ${money(preview.final)}.`)));
    }}, t("加入会员", "Join the membership")),
    formErrors());
  return box;
}

/** The cart: offer to join in the same cart (when the buyer is no member and has none in it). */
function cartOffer(cart, ctx) {
  if (!ctx.me || cart.vendors.some((p) => p.lines.some((l) => l.kind === "membership"))) return null;
  if (ctx.data.sfMembership && ["ACTIVE", "SCHEDULED"].includes(ctx.data.sfMembership.status)) return null;
  const plan = (ctx.data.sfMembershipPlans || [])[0];
  if (!plan) return null;
  const box = h("section", {class: "card member-offer", "aria-labelledby": "member-offer"},
    h("h2", {id: "member-offer"}, t("加入会员，本单即享会员价", "Join now: this cart at member prices")),
    h("p", {}, name(plan), " ", money(plan.price), t(`，配件 ${percent(plan.benefits.partsDiscountPercent)} 折扣`, `, ${percent(plan.benefits.partsDiscountPercent)} off parts`)),
    formErrors(),
    h("button", {type: "button", class: "primary", onclick: async () => {
      const payload = await joinInCart(plan.code);
      if (payload.errors.length) return showErrors(box, payload.errors);
      ctx.refresh();
    }}, t("加入会员", "Join the membership")));
  return box;
}

/** Checkout: the partner code on the cart's membership line. */
function partnerCode(cart, ctx) {
  const line = cart.vendors.flatMap((p) => p.lines).find((l) => l.kind === "membership");
  if (!line) return null;
  const current = line.metadata?.code || line.metadata?.membership?.code || null;
  const form = h("form", {class: "card stack partner-code", novalidate: true, "aria-labelledby": "partner-code-heading",
    onsubmit: onSubmit(async (values, formEl) => {
      const payload = await mutate(`mutation Code($t: UUID!, $c: String!) { partnerCodeApply(token: $t, code: $c) {
        discount { ${MONEY} } ${ERROR_FIELDS} } }`, {t: cart.token, c: values.code || ""});
      if (payload.errors.length) return showErrors(formEl, payload.errors);
      ctx.refresh();
    })},
  h("h2", {id: "partner-code-heading"}, t("驾校合作码", "Partner code")),
  current ? h("p", {class: "notice"}, t("已使用合作码 ", "Code applied: "), h("code", {}, current), " ",
    h("button", {type: "button", class: "link danger", onclick: async () => {
      const payload = await mutate(`mutation Uncode($t: UUID!) { partnerCodeRemove(token: $t) { ${ERROR_FIELDS} } }`, {t: cart.token});
      if (payload.errors.length) return showErrors(form, payload.errors);
      ctx.refresh();
    }}, t("移除", "Remove"))) : null,
  h("div", {class: "inline-form"},
    field({label: t("合作码", "Code"), name: "code", autocomplete: "off", value: ""}),
    h("button", {type: "submit", class: "secondary"}, t("使用", "Apply"))),
  formErrors());
  return form;
}

export function register(registry) {
  registry.page("/membership", {
    title: () => t("会员", "Membership"),
    query: (ctx) => ({fields: `membershipPlans { ${PLAN_FIELDS} } ${ctx.session.signedIn ? `myMembership { ${MY_FIELDS} }` : ""}`}),
    render: membershipPage,
  });
  registry.nav("shop", {path: "/membership", label: () => t("会员", "Membership"), order: 35});
  registry.slot("product.variant", {
    fields: `memberPrice { final { ${MONEY} } }`,
    render: upsell,
  });
  registry.slot("product", {query: () => ({fields: "sfMembershipPlans: membershipPlans { code }"}), render: () => null});
  registry.slot("cart", {
    query: (ctx) => (ctx.session.signedIn ? {fields: `sfMembership: myMembership { status }
      sfMembershipPlans: membershipPlans { code nameZh nameEn price { ${MONEY} } benefits { partsDiscountPercent } }`} : null),
    render: cartOffer,
  });
  registry.slot("checkout", {fields: "vendors { lines { id kind metadata } }", render: partnerCode});
}
