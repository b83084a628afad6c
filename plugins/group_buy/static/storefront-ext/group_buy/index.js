// The group-buy plugin's pages (docs/storefront.md, docs/group-buy.md), on the public
// GraphQL API only:
//   /deals                  live group deals
//   /deals/:id              a deal: price, open groups (join), open a group, join by share code
//   /group/:code            the page a share code leads to: the group's progress, join it
//   /group-buys             my group orders: status, progress, the share code to pass on
//   product page            the deal badge (slot "product")
//   dashboard /deals        deals (new, submit, cancel) and groups with their members (vendor staff)
// Joining puts the deal line in the member's cart (groupBuyCheckout); the normal checkout
// and payment pages do the rest.

import {ERROR_FIELDS, mutate} from "sf/core/api.js";
import {field, formErrors, h, onSubmit, showErrors} from "sf/core/dom.js";
import {date, label, money, name, t} from "sf/core/i18n.js";
import {href, navigate} from "sf/core/router.js";
import {MONEY, empty, pageHeader} from "sf/core/components.js";
import {MANAGERS, frame, roleAt} from "sf/pages/vendor/layout.js";

const WORDS = {
  DRAFT: ["草稿", "Draft"], REVIEW: ["审核中", "In review"], SCHEDULED: ["待开始", "Scheduled"], LIVE: ["进行中", "Live"],
  SOLD_OUT: ["已售罄", "Sold out"], ENDED: ["已结束", "Ended"], CANCELLED: ["已取消", "Cancelled"],
  FORMING: ["拼团中", "Forming"], SUCCEEDED: ["拼团成功", "Succeeded"], FAILED: ["拼团失败", "Failed"], DISSOLVED: ["已解散", "Dissolved"],
  OPENING: ["待付款（开团）", "Opening: awaiting payment"], PAYING: ["待付款", "Awaiting payment"], JOINED: ["已参团", "Joined"],
  WON: ["成团", "Won"], LATE: ["已满员，退款", "Too late: refunded"], REFUNDING: ["退款中", "Refunding"], REFUNDED: ["已退款", "Refunded"],
  VOIDED: ["已撤销授权", "Authorisation voided"], ABANDONED: ["未付款，已释放", "Unpaid: seat released"], CAPTURE_FAILED: ["扣款失败", "Capture failed"],
  GOODS: ["商品", "Goods"], SERVICE_VOUCHER: ["团购券", "Service voucher"],
};
const word = (value) => (WORDS[value] ? t(...WORDS[value]) : label(value));
const status = (value) => h("span", {class: `badge badge-${value.toLowerCase()}`}, word(value));
const title = (deal) => name(deal, "title") || name(deal.product);

const DEAL_FIELDS = `id kind status titleZh titleEn groupSize windowHours endsAt maxPerMember unitsLeft
  dealPrice { ${MONEY} } listPrice { ${MONEY} }
  vendor { id nameZh nameEn } product { id slug nameZh nameEn images vendor { slug } } variant { id sku name }`;
const GROUP_FIELDS = `id status size paidCount seatsLeft leaderName expiresAt shareCode isMine`;

/** paid of size, as a bar and words. */
export function progress(group) {
  const pct = Math.min(100, Math.round((group.paidCount / group.size) * 100));
  return h("div", {class: "group-progress"},
    h("div", {class: "progress", role: "progressbar", "aria-valuemin": 0, "aria-valuemax": group.size, "aria-valuenow": group.paidCount,
      "aria-label": t("拼团进度", "Group progress")}, h("span", {style: `width: ${pct}%`})),
    h("p", {class: "meta"}, t(`已付 ${group.paidCount}/${group.size} 人`, `${group.paidCount} of ${group.size} paid`),
      group.status === "FORMING" ? t(`，还差 ${group.seatsLeft} 人，${date(group.expiresAt)} 截止`, `, ${group.seatsLeft} to go, closes ${date(group.expiresAt)}`) : null));
}

/** groupBuyCheckout, then on to the checkout; errors next to the form's fields. */
async function join(ctx, form, args) {
  if (!ctx.me) return navigate(`/signin?next=${encodeURIComponent(ctx.path)}`);
  const payload = await mutate(`mutation Join($deal: ID, $code: String, $group: ID, $q: Int) {
    groupBuyCheckout(dealId: $deal, shareCode: $code, groupId: $group, quantity: $q) { checkout { token quantity } ${ERROR_FIELDS} } }`,
  {deal: args.dealId || null, code: args.shareCode ?? null, group: args.groupId || null, q: args.quantity ?? 1});
  if (payload.errors.length) return showErrors(form, payload.errors);
  document.dispatchEvent(new CustomEvent("sf:cart", {detail: payload.checkout}));
  navigate("/checkout");
}

function dealCard(deal) {
  return h("li", {class: "card deal-card"},
    h("h2", {}, h("a", {href: href(`/deals/${encodeURIComponent(deal.id)}`)}, title(deal))),
    h("p", {class: "meta"}, name(deal.vendor), " · ", word(deal.kind), " · ", t(`${deal.groupSize} 人团`, `group of ${deal.groupSize}`)),
    h("p", {class: "price-final"}, money(deal.dealPrice), h("s", {class: "price-list"}, money(deal.listPrice))),
    h("p", {class: "meta"}, t("截止 ", "Ends "), date(deal.endsAt), " · ", t(`开放中的团 ${deal.openGroups.length} 个`, `${deal.openGroups.length} open groups`)));
}

function dealPage(ctx) {
  const deal = ctx.data.groupDeal;
  if (!deal) return [pageHeader(t("拼团", "Group deal")), empty(t("找不到这个拼团。", "This deal is not available."))];
  const open = ["LIVE", "SOLD_OUT"].includes(deal.status);
  const openForm = h("form", {class: "card stack open-group", novalidate: true, "aria-labelledby": "open-heading",
    onsubmit: onSubmit((values, form) => {
      const quantity = Number(values.quantity);
      return join(ctx, form, {dealId: deal.id, quantity: Number.isInteger(quantity) ? quantity : 0});
    })},
  h("h2", {id: "open-heading"}, t("我来开团", "Open a group")),
  h("p", {class: "help"}, t(`付款后获得分享码，${deal.windowHours} 小时内凑满 ${deal.groupSize} 人即成团，未成团全额退款。`,
    `Pay and get a share code; if ${deal.groupSize} people pay within ${deal.windowHours} hours the group succeeds, otherwise you are refunded in full.`)),
  field({label: t("数量", "Quantity"), name: "quantity", type: "number", value: "1", min: 1, max: deal.maxPerMember,
    inputmode: "numeric", inline: true, help: t(`每人最多 ${deal.maxPerMember} 件`, `At most ${deal.maxPerMember} each`)}),
  formErrors(),
  h("button", {type: "submit", class: "primary", disabled: deal.status !== "LIVE"}, t(`开团 ${money(deal.dealPrice)}`, `Open a group at ${money(deal.dealPrice)}`)));
  const codeForm = h("form", {class: "card stack join-code", novalidate: true, "aria-labelledby": "code-heading",
    onsubmit: onSubmit((values, form) => join(ctx, form, {shareCode: values.shareCode || ""}))},
  h("h2", {id: "code-heading"}, t("用分享码参团", "Join with a share code")),
  h("div", {class: "inline-form"},
    field({label: t("分享码", "Share code"), name: "shareCode", autocomplete: "off", attrs: {autocapitalize: "characters"}}),
    h("button", {type: "submit", class: "secondary"}, t("参团", "Join"))),
  formErrors());
  const groups = deal.openGroups;
  return h("article", {class: "deal"},
    pageHeader(title(deal), status(deal.status)),
    h("p", {class: "meta"}, name(deal.vendor), " · ", deal.product ? h("a", {href: href(`/p/${encodeURIComponent(deal.product.vendor.slug)}/${encodeURIComponent(deal.product.slug)}`)}, name(deal.product)) : null,
      deal.variant?.name ? ` · ${deal.variant.name}` : null),
    h("p", {class: "price-final"}, t("拼团价 ", "Group price "), money(deal.dealPrice), h("s", {class: "price-list"}, money(deal.listPrice))),
    h("p", {class: "meta"}, t(`${deal.groupSize} 人成团`, `Needs ${deal.groupSize} people`), " · ", t("截止 ", "ends "), date(deal.endsAt),
      " · ", t(`剩余 ${deal.unitsLeft} 件`, `${deal.unitsLeft} units left`)),
    open ? h("div", {class: "grid-fields"}, openForm, codeForm) : h("p", {class: "notice"}, t("该拼团已结束。", "This deal is over.")),
    h("section", {"aria-labelledby": "groups-heading"},
      h("h2", {id: "groups-heading"}, t("正在拼的团", "Groups forming now")),
      groups.length ? h("ul", {class: "list"}, groups.map((g) => {
        const form = h("form", {class: "card row open-group-row", onsubmit: onSubmit((values, f) => join(ctx, f, {groupId: g.id}))},
          h("div", {}, h("p", {class: "strong"}, t(`${g.leaderName} 的团`, `${g.leaderName}'s group`)), progress(g)),
          h("button", {type: "submit", class: "secondary", disabled: g.isMine,
            "aria-label": g.isMine ? null : t(`参加 ${g.leaderName} 的团`, `Join ${g.leaderName}'s group`)}, g.isMine ? t("我的团", "My group") : t("参团", "Join")),
          formErrors());
        return h("li", {}, form);
      })) : empty(t("还没有人开团，来做第一个吧。", "No group yet: open the first one."))));
}

function groupPage(ctx) {
  const group = ctx.data.groupBuyGroup;
  if (!group) return [pageHeader(t("拼团", "Group")), empty(t("没有这个分享码的团。", "No group has this share code."),
    h("a", {href: href("/deals")}, t("看看其他拼团", "See the deals")))];
  const deal = group.deal;
  const form = h("form", {class: "card stack", novalidate: true, onsubmit: onSubmit((values, f) => join(ctx, f, {shareCode: ctx.params.code}))},
    h("p", {class: "field-error", "data-error-for": "shareCode", "aria-live": "polite"}),
    formErrors(),
    h("button", {type: "submit", class: "primary big", disabled: group.status !== "FORMING" || group.isMine},
      group.isMine ? t("这是您参加的团", "You are in this group") : t(`参团 ${money(deal.dealPrice)}`, `Join at ${money(deal.dealPrice)}`)));
  return h("article", {class: "group"},
    pageHeader(t(`${group.leaderName} 邀您拼团`, `${group.leaderName} invites you`), status(group.status)),
    h("h2", {}, h("a", {href: href(`/deals/${encodeURIComponent(deal.id)}`)}, title(deal))),
    h("p", {class: "price-final"}, money(deal.dealPrice), h("s", {class: "price-list"}, money(deal.listPrice))),
    progress(group),
    form);
}

function myGroupsPage(ctx) {
  const edges = ctx.data.myGroupBuys?.edges || [];
  return [
    pageHeader(t("我的拼团", "My group deals")),
    edges.length ? h("ul", {class: "list"}, edges.map(({node: m}) => h("li", {class: "card my-group", "data-status": m.status},
      h("h2", {}, h("a", {href: href(`/deals/${encodeURIComponent(m.deal.id)}`)}, title(m.deal)), " ", status(m.status)),
      h("p", {class: "meta"}, m.isLeader ? t("团长", "Leader") : t("团员", "Member"), " · ", money(m.amount),
        m.order ? [" · ", h("a", {href: href(`/orders/${encodeURIComponent(m.order.number)}`)}, t("订单 ", "order "), m.order.number)] : null),
      m.group ? [
        h("p", {}, t("团状态 ", "Group "), status(m.group.status)),
        progress(m.group),
        m.group.shareCode && m.group.status === "FORMING" ? h("div", {class: "share"},
          h("p", {}, t("分享码（发给好友）", "Share code (send it to friends)")),
          h("p", {class: "share-code", "data-share-code": m.group.shareCode}, m.group.shareCode),
          h("p", {class: "meta"}, t("好友打开 ", "Friends open "),
            h("a", {href: href(`/group/${encodeURIComponent(m.group.shareCode)}`)}, `${location.origin}${href(`/group/${m.group.shareCode}`)}`))) : null,
      ] : h("p", {class: "help"}, t("付款后成团信息会显示在这里。", "The group shows here once you have paid.")),
      m.order && m.order.status === "UNPAID" ? h("a", {class: "button primary", href: href(`/pay/${encodeURIComponent(m.order.number)}`)}, t("去支付", "Pay now")) : null,
      m.refund ? h("p", {class: "meta"}, t("退款 ", "Refund "), money(m.refund.amount), " · ", label(m.refund.status)) : null,
      m.vouchers.length ? h("ul", {class: "plain"}, m.vouchers.map((v) => h("li", {}, h("code", {}, v.code), " · ", label(v.status),
        " · ", t("有效期至 ", "valid until "), date(v.validUntil)))) : null)))
      : empty(t("还没有参加拼团。", "No group deals yet."), h("a", {href: href("/deals")}, t("去看看拼团", "See the deals"))),
  ];
}

/* ---- the vendor dashboard ---- */

function dealForm(ctx, variants) {
  const vendorId = ctx.params.vendorId;
  return h("details", {class: "card new-deal"},
    h("summary", {class: "strong"}, t("新建拼团", "New group deal")),
    h("form", {class: "stack", novalidate: true, onsubmit: onSubmit(async (values, form) => {
      const input = {titleZh: values.titleZh, dealPrice: values.dealPrice || null,
        groupSize: values.groupSize === "" ? null : Number(values.groupSize), maxUnits: values.maxUnits === "" ? null : Number(values.maxUnits),
        windowHours: values.windowHours === "" ? null : Number(values.windowHours),
        startsAt: values.startsAt ? new Date(values.startsAt).toISOString() : null,
        endsAt: values.endsAt ? new Date(values.endsAt).toISOString() : null};
      const created = await mutate(`mutation New($v: ID!, $var: ID!, $i: GroupDealInput!) {
        groupDealCreate(vendorId: $v, variantId: $var, input: $i) { deal { id } ${ERROR_FIELDS} } }`, {v: vendorId, var: values.variantId, i: input});
      if (created.errors.length) return showErrors(form, created.errors);
      ctx.refresh();
    })},
    field({label: t("规格", "Variant"), name: "variantId", required: true,
      choices: variants.map((v) => [v.id, `${name(v.product)} · ${v.name || v.sku}`])}),
    h("div", {class: "grid-fields"},
      field({label: t("标题", "Title"), name: "titleZh"}),
      field({label: t("拼团价", "Deal price"), name: "dealPrice", inputmode: "decimal", required: true}),
      field({label: t("成团人数", "Group size"), name: "groupSize", type: "number", min: 1, value: "2", required: true}),
      field({label: t("活动库存", "Units set aside"), name: "maxUnits", type: "number", min: 1, value: "10", required: true}),
      field({label: t("成团时限（小时）", "Window (hours)"), name: "windowHours", type: "number", min: 1}),
      field({label: t("开始", "Starts"), name: "startsAt", type: "datetime-local", required: true}),
      field({label: t("结束", "Ends"), name: "endsAt", type: "datetime-local", required: true})),
    formErrors(),
    h("button", {type: "submit", class: "primary"}, t("保存草稿", "Save the draft"))));
}

async function dealAction(ctx, box, mutation, deal, extra = {}) {
  const args = Object.keys(extra).map((k) => `, ${k}: $${k}`).join("");
  const defs = Object.keys(extra).map((k) => `, $${k}: String!`).join("");
  const payload = await mutate(`mutation Act($id: ID!${defs}) { ${mutation}(id: $id${args}) { deal { status } ${ERROR_FIELDS} } }`,
    {id: deal.id, ...extra});
  if (payload.errors.length) return showErrors(box, payload.errors);
  ctx.refresh();
}

function vendorDealsPage(ctx) {
  const deals = ctx.data?.groupDeals?.edges || [];
  const groups = ctx.data?.vendorGroupBuyGroups?.edges || [];
  const manager = MANAGERS.includes(roleAt(ctx, ctx.params.vendorId)?.role);
  const variants = (ctx.data?.sfDealProducts?.edges || []).flatMap(({node: p}) => p.variants.map((v) => ({...v, product: p})));
  return frame(ctx, "deals", t("拼团", "Group deals"),
    manager ? dealForm(ctx, variants) : null,
    deals.length ? h("div", {class: "table-wrap"}, h("table", {class: "data deals"},
      h("caption", {}, t("拼团活动", "Deals")),
      h("thead", {}, h("tr", {}, [t("活动", "Deal"), t("状态", "Status"), t("价格", "Price"), t("人数", "Size"), t("剩余", "Left"), t("结束", "Ends"), ""]
        .map((x) => h("th", {scope: "col"}, x)))),
      h("tbody", {}, deals.map(({node: d}) => {
        const actions = h("td", {class: "deal-actions"},
          manager && d.status === "DRAFT" ? h("button", {type: "button", class: "secondary", onclick: () => dealAction(ctx, actions, "groupDealSubmit", d)},
            t("提交审核", "Submit")) : null,
          manager && !["ENDED", "CANCELLED"].includes(d.status) ? h("button", {type: "button", class: "link danger",
            onclick: () => dealAction(ctx, actions, "groupDealCancel", d, {cancelReason: t("店铺取消", "Cancelled by the shop")})}, t("取消", "Cancel")) : null,
          d.reviewNote ? h("p", {class: "meta"}, d.reviewNote) : null,
          h("p", {class: "field-error", "data-error-for": "dealPrice"}), formErrors());
        return h("tr", {}, h("td", {}, title(d), h("span", {class: "meta"}, ` ${d.variant?.sku || ""}`)), h("td", {}, status(d.status)),
          h("td", {class: "num"}, money(d.dealPrice)), h("td", {class: "num"}, d.groupSize), h("td", {class: "num"}, d.unitsLeft),
          h("td", {}, date(d.endsAt)), actions);
      })))) : empty(t("还没有拼团活动。", "No deals yet.")),
    h("h2", {}, t("团", "Groups")),
    groups.length ? h("ul", {class: "list"}, groups.map(({node: g}) => h("li", {class: "card vendor-group"},
      h("p", {}, h("strong", {}, title(g.deal)), " ", status(g.status), " · ", t("开团 ", "opened "), date(g.openedAt),
        g.shareCode ? [" · ", t("分享码 ", "code "), h("code", {}, g.shareCode)] : null),
      progress(g),
      h("ul", {class: "plain"}, g.members.map((m) => h("li", {}, m.name, m.isLeader ? t("（团长）", " (leader)") : "", " · ", status(m.status),
        m.paidBy ? ` · ${m.paidBy}` : "")))))) : empty(t("还没有团。", "No groups yet.")));
}

export function register(registry) {
  registry.page("/deals", {
    title: () => t("拼团", "Group deals"),
    query: () => ({fields: `groupDeals(first: 30) { edges { node { ${DEAL_FIELDS} openGroups { id } } } }`}),
    render: (ctx) => [pageHeader(t("拼团", "Group deals")),
      (ctx.data.groupDeals?.edges || []).length ? h("ul", {class: "list deals"}, ctx.data.groupDeals.edges.map(({node}) => dealCard(node)))
        : empty(t("暂无拼团。", "No deals now."))],
  });
  registry.page("/deals/:id", {
    title: (data) => (data.groupDeal ? title(data.groupDeal) : t("拼团", "Group deal")),
    query: (ctx) => ({fields: `groupDeal(id: $id) { ${DEAL_FIELDS} openGroups { ${GROUP_FIELDS} } }`, variables: {id: ["ID!", ctx.params.id]}}),
    render: dealPage,
  });
  registry.page("/group/:code", {
    title: () => t("参团", "Join a group"),
    query: (ctx) => ({fields: `groupBuyGroup(shareCode: $code) { ${GROUP_FIELDS} deal { ${DEAL_FIELDS} } }`,
      variables: {code: ["String!", ctx.params.code]}}),
    render: groupPage,
  });
  registry.page("/group-buys", {
    auth: "member",
    title: () => t("我的拼团", "My group deals"),
    query: () => ({fields: `myGroupBuys(first: 30) { edges { node { id status isLeader paidBy amount { ${MONEY} }
      deal { id titleZh titleEn product { nameZh nameEn } } group { ${GROUP_FIELDS} } order { number status }
      refund { status amount { ${MONEY} } } vouchers { id code status validUntil } } } }`}),
    render: myGroupsPage,
  });
  registry.nav("shop", {path: "/deals", label: () => t("拼团", "Group deals"), order: 15});
  registry.nav("shop", {path: "/group-buys", label: () => t("我的拼团", "My groups"), order: 45, show: (ctx) => Boolean(ctx.me)});
  registry.slot("product", {
    fields: "groupDeal { label deal { id } }",
    render: (product) => (product.groupDeal ? h("p", {class: "notice deal-badge"}, h("strong", {}, product.groupDeal.label), " ",
      h("a", {href: href(`/deals/${encodeURIComponent(product.groupDeal.deal.id)}`)}, t("去拼团", "Join a group"))) : null),
  });
  registry.page("/vendor/:vendorId/deals", {
    auth: "member",
    title: () => t("拼团", "Group deals"),
    query: (ctx) => ({fields: `groupDeals(vendorId: $vendorId, status: [DRAFT, REVIEW, SCHEDULED, LIVE, SOLD_OUT, ENDED, CANCELLED], first: 50) {
        edges { node { ${DEAL_FIELDS} reviewNote } } }
      vendorGroupBuyGroups(vendorId: $vendorId, first: 30) { edges { node { ${GROUP_FIELDS} openedAt deal { id titleZh titleEn product { nameZh nameEn } }
        members { name isLeader status paidBy } } } }
      sfDealProducts: vendorProducts(vendorId: $vendorId, first: 50) { edges { node { id nameZh nameEn variants { id sku name } } } }`,
    variables: {vendorId: ["ID!", ctx.params.vendorId]}}),
    render: vendorDealsPage,
  });
  registry.nav("vendor", {key: "deals", path: "/deals", label: () => t("拼团", "Group deals"), order: 25});
}
