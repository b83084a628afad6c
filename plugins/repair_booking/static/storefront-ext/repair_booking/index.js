// The repair-booking plugin's pages (docs/storefront.md, docs/repair-booking.md), on the
// public GraphQL API only:
//   /repair                 repair shops by distance (searchShops near a point)
//   /repair/:shopId         the service menu (labour price, member discount) and the slot
//                           picker; booking adds the service to the cart and holds the start
//   /bookings               my bookings: cancel, reschedule; towing requests
//   /towing                 a tow: quote, request, cancel, pay what is left
//   dashboard /bookings     the calendar per bay: check in, start, complete (installed parts)

import {ERROR_FIELDS, mutate} from "sf/core/api.js";
import {append, field, formErrors, h, onSubmit, showErrors, uid} from "sf/core/dom.js";
import {date, label, money, name, t} from "sf/core/i18n.js";
import {href, navigate} from "sf/core/router.js";
import {MONEY, PRICE_FIELDS, addToCart, empty, pageHeader, vehicleName, VEHICLE_FIELDS} from "sf/core/components.js";
import {MANAGERS, frame, roleAt} from "sf/pages/vendor/layout.js";

const WORDS = {
  CONFIRMED: ["已预约", "Confirmed"], CHECKED_IN: ["已到店", "Checked in"], IN_SERVICE: ["施工中", "In service"],
  COMPLETED: ["已完工", "Completed"], CANCELLED_BY_CUSTOMER: ["已取消", "Cancelled"], CANCELLED_LATE: ["逾时取消", "Cancelled late"],
  CANCELLED_BY_SHOP: ["门店取消", "Cancelled by the shop"], RESCHEDULED: ["已改期", "Rescheduled"], NO_SHOW: ["未到店", "No-show"],
  BLOCKED_PARTS: ["配件问题，待改期", "Parts problem: reschedule"], RELEASED: ["未付款，已释放", "Unpaid: released"],
  REQUESTED: ["已呼叫", "Requested"], DISPATCHED: ["已派车", "Dispatched"], EN_ROUTE: ["赶来中", "On the way"], ON_SITE: ["已到达", "On site"],
  TOWING: ["拖运中", "Towing"], DELIVERED: ["已送达", "Delivered"], FAILED: ["失败", "Failed"], CANCELLED: ["已取消", "Cancelled"],
};
const word = (value) => (WORDS[value] ? t(...WORDS[value]) : label(value));
const status = (value) => h("span", {class: `badge badge-${value.toLowerCase()}`}, word(value));
const HOME = {lat: 39.9087, lon: 116.3975};  // 天安门: where the list is measured from without a location
const BOOKING = `id status start end localStart timezone bayName vehicleLabel orderNumber orderId labourAmount { ${MONEY} }
  refundDue { ${MONEY} } refunded cancelReason notes shop { id nameZh nameEn district street phone }`;

function localDate(offsetDays = 0) {
  const d = new Date(Date.now() + offsetDays * 86400000);
  return new Intl.DateTimeFormat("en-CA", {timeZone: "Asia/Shanghai"}).format(d);  // YYYY-MM-DD
}
const addDays = (iso, n) => {
  const d = new Date(`${iso}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
};

/* ---- shops by distance ---- */

function shopsPage(ctx) {
  const edges = ctx.data.searchShops.edges.filter(({node}) => node.repairShop);  // shops that take bookings
  const here = ctx.query.get("lat") ? t("您的位置", "your location") : t("天安门", "Tiananmen");
  return [
    pageHeader(t("预约安装与保养", "Book a repair or installation")),
    h("p", {class: "meta"}, t(`按距离排序（自${here}）`, `Nearest first (from ${here})`), " ",
      h("button", {type: "button", class: "link", onclick: () => navigator.geolocation?.getCurrentPosition(
        (p) => navigate(`/repair?lat=${p.coords.latitude.toFixed(5)}&lon=${p.coords.longitude.toFixed(5)}&wgs84=1`),
        () => null)}, t("使用我的位置", "Use my location")),
      " · ", h("a", {href: href("/towing")}, t("道路救援", "Need a tow?"))),
    edges.length ? h("ul", {class: "list shops"}, edges.map(({node: v, distanceKm}) => h("li", {class: "card row shop-card"},
      h("div", {},
        h("h2", {}, h("a", {href: href(`/repair/${encodeURIComponent(v.id)}`)}, name(v))),
        h("p", {class: "meta"}, label(v.kind), " · ", [v.district, v.street].filter(Boolean).join(" "),
          distanceKm !== null && distanceKm !== undefined ? ` · ${distanceKm.toFixed(1)} km` : "",
          v.isOpenNow ? t(" · 营业中", " · open now") : t(" · 休息中", " · closed now")),
        v.repairShop ? h("p", {class: "meta"}, t("工时费 ", "Labour "), money(v.repairShop.labourRate), t("/小时", "/hour")) : null),
      h("a", {class: "button secondary", href: href(`/repair/${encodeURIComponent(v.id)}`)}, t("选服务", "Services")))))
      : empty(t("附近没有可预约的门店。", "No shop takes bookings near here.")),
  ];
}

/* ---- a shop: menu and slot picker ---- */

function servicePrice(service) {
  const variant = service.variant;
  if (!variant) return money(service.listPrice);
  const memberNow = variant.price.adjustments.some((a) => a.source === "membership");
  return [h("strong", {class: "price"}, money(variant.price.final)),
    Number(variant.price.discount.amount) ? h("s", {class: "price-list"}, money(variant.price.list)) : null,
    memberNow ? h("span", {class: "badge badge-member"}, t("会员工时优惠", "Member labour discount"))
      : variant.memberPrice && variant.memberPrice.final.amount !== variant.price.final.amount
        ? h("span", {class: "meta"}, t(" 会员 ", " members "), money(variant.memberPrice.final)) : null];
}

function shopPage(ctx) {
  const shop = ctx.data.repairShop;
  if (!shop) return [pageHeader(t("门店", "Shop")), empty(t("该门店不接受在线预约。", "This shop does not take bookings online."))];
  const vendor = shop.vendor;
  const chosen = ctx.query.get("service");
  const services = shop.services.filter((s) => s.isActive);
  const from = ctx.query.get("from") || localDate(0);
  const slots = ctx.data.repairSlots;
  const garage = ctx.data.sfGarage || [];
  const base = `/repair/${encodeURIComponent(ctx.params.shopId)}`;
  const menu = h("section", {class: "card", "aria-labelledby": "menu-heading"},
    h("h2", {id: "menu-heading"}, t("服务项目", "Services")),
    h("p", {class: "meta"}, t("工时费 ", "Labour "), money(shop.labourRate), t("/小时", "/hour")),
    h("ul", {class: "list services"}, services.map((s) => h("li", {class: `row service${s.id === chosen ? " chosen" : ""}`, "data-code": s.code},
      h("div", {}, h("p", {class: "strong"}, name(s)), h("p", {class: "meta"}, t(`工时 ${Number(s.labourHours)} 小时 · 约 ${s.durationMinutes} 分钟`,
        `${Number(s.labourHours)} h labour · about ${s.durationMinutes} min`))),
      h("div", {class: "right"}, servicePrice(s), " ",
        h("a", {class: `button ${s.id === chosen ? "primary" : "secondary"}`, href: href(`${base}?service=${encodeURIComponent(s.id)}&from=${from}`),
          "aria-label": t(`选择 ${name(s)}`, `Choose ${name(s)}`)}, s.id === chosen ? t("已选", "Chosen") : t("选择", "Choose")))))));
  let picker = null;
  if (chosen && slots) {
    const service = services.find((s) => s.id === chosen);
    const groupName = uid("slot");
    picker = h("form", {class: "card stack slot-picker", novalidate: true, "aria-labelledby": "slot-heading",
      onsubmit: onSubmit(async (values, form) => {
        if (!ctx.me) return navigate(`/signin?next=${encodeURIComponent(ctx.path + location.search)}`);
        if (!values.start) return showErrors(form, [{field: "start", message: t("请选择时间。", "Choose a time.")}]);
        const added = await addToCart([{variantId: service.variant.id, quantity: 1}]);
        if (added.errors.length) return showErrors(form, added.errors);
        const held = await mutate(`mutation Hold($t: UUID!, $s: DateTime!, $g: ID, $p: Boolean) {
          bookingHold(token: $t, start: $s, garageVehicleId: $g, installParts: $p) { hold { start expiresAt } ${ERROR_FIELDS} } }`,
        {t: added.checkout.token, s: values.start, g: values.garageVehicleId || null, p: Boolean(values.installParts)});
        if (held.errors.length) return showErrors(form, held.errors);
        document.dispatchEvent(new CustomEvent("sf:cart", {detail: added.checkout}));
        navigate("/checkout");
      })},
    h("h2", {id: "slot-heading"}, t("选择时间", "Choose a time"), ": ", name(service)),
    garage.length ? field({label: t("车辆", "Car"), name: "garageVehicleId", value: garage.find((g) => g.isDefault)?.id,
      choices: [["", t("不指定", "Not given")], ...garage.map((g) => [g.id, g.nickname || vehicleName(g.vehicle, g.year)])]})
      : h("p", {class: "help"}, h("a", {href: href("/garage")}, t("添加车辆", "Add your car")), t("，门店可核对配件是否适配。", " so the shop can check the parts fit.")),
    h("div", {class: "check"}, h("input", {type: "checkbox", id: "install-parts", name: "installParts", checked: true}),
      h("label", {for: "install-parts"}, t("购物车里的配件寄到本店安装", "Deliver the parts in my cart to this shop to fit"))),
    h("nav", {class: "actions", "aria-label": t("日期", "Dates")},
      h("a", {class: "button secondary", href: href(`${base}?service=${encodeURIComponent(chosen)}&from=${addDays(from, -7)}`)}, t("← 前一周", "← Earlier")),
      h("span", {}, `${from} – ${addDays(from, 6)}`),
      h("a", {class: "button secondary", href: href(`${base}?service=${encodeURIComponent(chosen)}&from=${addDays(from, 7)}`)}, t("后一周 →", "Later →"))),
    h("fieldset", {class: "slot-days", "aria-describedby": "start-error"},
      h("legend", {}, t(`可预约时间（${slots.timezone}）`, `Free times (${slots.timezone})`)),
      slots.days.filter((d) => d.slots.length).length ? slots.days.filter((d) => d.slots.length).map((d) => h("div", {class: "slot-day"},
        h("h3", {}, d.date),
        h("div", {class: "slots"}, d.slots.map((s) => {
          const id = uid("s");
          return h("div", {class: "check slot"}, h("input", {type: "radio", id, name: "start", value: s.start}),
            h("label", {for: id}, s.localTime));
        })))) : h("p", {class: "help"}, t("这一周没有空闲时间。", "No free time this week.")),
      h("p", {class: "field-error", id: "start-error", "data-error-for": "start", "aria-live": "polite"})),
    h("p", {class: "field-error", "data-error-for": "lines", "aria-live": "polite"}),
    formErrors(),
    h("button", {type: "submit", class: "primary big"}, t("预约并去结算", "Book and check out")));
  }
  return [
    pageHeader(name(vendor)),
    h("p", {class: "meta"}, [vendor.city, vendor.district, vendor.street].filter(Boolean).join(" "), vendor.phone ? ` · ${vendor.phone}` : ""),
    menu,
    picker || (chosen ? null : h("p", {class: "help"}, t("选择一个服务后挑选时间。", "Choose a service to see the free times."))),
  ];
}

/* ---- my bookings and tows ---- */

function bookingCard(ctx, b) {
  const box = h("li", {class: "card booking", "data-status": b.status},
    h("h2", {}, name(b.shop), " ", status(b.status)),
    h("p", {}, h("strong", {}, b.localStart), ` (${b.timezone})`, " · ", b.bayName, b.vehicleLabel ? ` · ${b.vehicleLabel}` : ""),
    h("p", {class: "meta"}, t("工时费 ", "Labour "), money(b.labourAmount), " · ",
      h("a", {href: href(`/orders/${encodeURIComponent(b.orderNumber)}`)}, t("订单 ", "order "), b.orderNumber),
      b.refunded ? [" · ", t("已退 ", "refunded "), money(b.refundDue)] : null),
    b.cancelReason ? h("p", {class: "meta"}, b.cancelReason) : null);
  if (["CONFIRMED", "BLOCKED_PARTS"].includes(b.status)) {
    append(box, [h("details", {class: "reschedule"},
      h("summary", {}, t("改期", "Reschedule")),
      h("form", {class: "stack", novalidate: true, onsubmit: onSubmit(async (values, form) => {
        const payload = await mutate(`mutation Move($id: ID!, $s: DateTime!) { bookingReschedule(id: $id, start: $s) {
          booking { id } ${ERROR_FIELDS} } }`, {id: b.id, s: values.start ? `${values.start}:00` : ""});
        if (payload.errors.length) return showErrors(form, payload.errors);
        ctx.refresh();
      })},
      field({label: t("新的时间（门店当地时间）", "New time (the shop's local time)"), name: "start", type: "datetime-local", required: true}),
      formErrors(),
      h("button", {type: "submit", class: "secondary"}, t("确认改期", "Move the booking")))),
    h("form", {class: "actions cancel-booking", novalidate: true, onsubmit: onSubmit(async (values, form) => {
      const payload = await mutate(`mutation Cancel($id: ID!, $r: String) { bookingCancel(id: $id, reason: $r, refundParts: false) {
        booking { status } ${ERROR_FIELDS} } }`, {id: b.id, r: t("顾客取消", "Cancelled by the customer")});
      if (payload.errors.length) return showErrors(form, payload.errors);
      ctx.refresh();
    })}, h("button", {type: "submit", class: "danger"}, t("取消预约", "Cancel the booking")), formErrors())]);
  }
  return box;
}

function towCard(ctx, tow) {
  const box = h("li", {class: "card tow"},
    h("h2", {}, t("拖车到 ", "Tow to "), name(tow.shop), " ", status(tow.status)),
    h("p", {class: "meta"}, tow.pickupAddress || `${tow.pickupLat}, ${tow.pickupLon}`, " · ", `${tow.distanceKm} km`, " · ",
      t("应付 ", "to pay "), money(tow.paidAmount), Number(tow.freeAmount.amount) ? [t("（会员免 ", " (member: "), money(tow.freeAmount), t("）", " free)")] : null),
    tow.driver ? h("p", {class: "meta"}, t("司机 ", "Driver "), tow.driver) : null,
    formErrors());
  const act = async (mutation, extra = "", vars = {}) => {
    const payload = await mutate(`mutation Tow($id: ID!${extra ? ", $g: String!" : ""}) { ${mutation}(id: $id${extra}) { ${ERROR_FIELDS} } }`, {id: tow.id, ...vars});
    if (payload.errors.length) return showErrors(box, payload.errors);
    ctx.refresh();
  };
  append(box, [h("div", {class: "actions"},
    ["REQUESTED", "DISPATCHED", "EN_ROUTE"].includes(tow.status) ? h("button", {type: "button", class: "danger", onclick: () => act("towCancel")}, t("取消拖车", "Cancel the tow")) : null,
    !tow.paid && Number(tow.paidAmount.amount) > 0 && tow.status === "DELIVERED"
      ? h("button", {type: "button", class: "primary", onclick: () => act("towPay", ", gateway: $g", {g: "dev"})}, t("支付", "Pay")) : null)]);
  return box;
}

function bookingsPage(ctx) {
  const edges = ctx.data.myRepairBookings?.edges || [];
  const tows = ctx.data.myTowRequests || [];
  return [
    pageHeader(t("我的预约", "My bookings")),
    edges.length ? h("ul", {class: "list bookings"}, edges.map(({node}) => bookingCard(ctx, node)))
      : empty(t("还没有预约。", "No bookings yet."), h("a", {href: href("/repair")}, t("找门店", "Find a shop"))),
    h("h2", {}, t("道路救援", "Tows")),
    tows.length ? h("ul", {class: "list tows"}, tows.map((tow) => towCard(ctx, tow))) : h("p", {class: "help"}, t("没有拖车记录。", "No tows."), " ",
      h("a", {href: href("/towing")}, t("呼叫拖车", "Request a tow"))),
  ];
}

function towingPage(ctx) {
  const shops = (ctx.data.searchShops?.edges || []).filter(({node}) => node.repairShop);
  const garage = ctx.data.sfGarage || [];
  const quote = h("div", {class: "tow-quote", role: "status"});
  const read = (values) => ({shopId: values.shopId, pickup: {lat: Number(values.lat), lon: Number(values.lon), address: values.address || null}});
  const form = h("form", {class: "card stack tow-form", novalidate: true, onsubmit: onSubmit(async (values, formEl, submitter) => {
    const {shopId, pickup} = read(values);
    if (submitter?.value === "quote") {
      const data = await mutate(`query Quote($s: ID!, $p: TowPickupInput!) { towQuote(shopId: $s, pickup: $p) {
        distanceKm listAmount { ${MONEY} } freeAmount { ${MONEY} } paidAmount { ${MONEY} } member } }`, {s: shopId, p: pickup}, "towQuote")
        .catch((error) => ({errors: error.errors || [{message: String(error.message)}]}));
      if (data.errors?.length) return showErrors(formEl, data.errors.map((e) => ({field: e.extensions?.field || e.field, message: e.message})));
      quote.replaceChildren(h("p", {}, `${data.distanceKm} km · `, t("原价 ", "list "), money(data.listAmount), " · ",
        t("会员免 ", "free "), money(data.freeAmount), " · ", h("strong", {}, t("应付 ", "to pay "), money(data.paidAmount))));
      return;
    }
    const payload = await mutate(`mutation Tow($s: ID!, $p: TowPickupInput!, $g: ID) { towRequest(shopId: $s, pickup: $p, garageVehicleId: $g) {
      ${ERROR_FIELDS} } }`, {s: shopId, p: pickup, g: values.garageVehicleId || null});
    if (payload.errors.length) return showErrors(formEl, payload.errors);
    navigate("/bookings");
  })},
  field({label: t("送往门店", "Tow to"), name: "shopId", required: true, choices: shops.map(({node, distanceKm}) => [node.id,
    `${name(node)}${distanceKm !== null && distanceKm !== undefined ? ` · ${distanceKm.toFixed(1)} km` : ""}`])}),
  h("div", {class: "grid-fields"},
    field({label: t("纬度", "Latitude"), name: "lat", inputmode: "decimal", required: true, value: ctx.query.get("lat") || String(HOME.lat)}),
    field({label: t("经度", "Longitude"), name: "lon", inputmode: "decimal", required: true, value: ctx.query.get("lon") || String(HOME.lon)})),
  field({label: t("地点说明", "Where you are"), name: "address"}),
  garage.length ? field({label: t("车辆", "Car"), name: "garageVehicleId", choices: [["", t("不指定", "Not given")],
    ...garage.map((g) => [g.id, g.nickname || vehicleName(g.vehicle, g.year)])]}) : null,
  quote,
  formErrors(),
  h("div", {class: "actions"},
    h("button", {type: "submit", name: "action", value: "quote", class: "secondary"}, t("估价", "Get a quote")),
    h("button", {type: "submit", name: "action", value: "request", class: "primary"}, t("呼叫拖车", "Request the tow"))));
  return [pageHeader(t("道路救援", "Request a tow")),
    h("p", {class: "help"}, t("会员每期有免费拖车次数（公里数内免费，超出部分按公里计）。", "Members have free tows each term (free up to the distance of the plan, the rest per km).")),
    form];
}

/* ---- the dashboard: calendar per bay ---- */

function completeForm(ctx, box, b) {
  return h("form", {class: "stack complete-form", novalidate: true, onsubmit: onSubmit(async (values, form) => {
    const parts = (values.partNumber || "").split(/[\n,，]/).map((x) => x.trim()).filter(Boolean).map((partNumber) => ({partNumber}));
    const payload = await mutate(`mutation Done($id: ID!, $p: [InstalledPartInput!], $n: String) {
      bookingComplete(id: $id, installedParts: $p, notes: $n) { booking { status } ${ERROR_FIELDS} } }`, {id: b.id, p: parts, n: values.notes || null});
    if (payload.errors.length) return showErrors(form, payload.errors);
    ctx.refresh();
  })},
  field({label: t("已安装的零件号（每行一个）", "Part numbers fitted (one a line)"), name: "partNumber", type: "textarea", rows: 2}),
  field({label: t("备注", "Notes"), name: "notes"}),
  formErrors(),
  h("button", {type: "submit", class: "primary"}, t("完工", "Complete")));
}

function calendarBooking(ctx, b, manager) {
  const box = h("li", {class: "card cal-booking", "data-status": b.status},
    h("p", {}, h("strong", {}, b.localStart.slice(-5) || b.localStart), " ", status(b.status)),
    h("p", {class: "meta"}, b.vehicleLabel || "—", " · ", b.customerEmail || "", " · ", b.orderNumber));
  const act = async (mutation) => {
    const payload = await mutate(`mutation Act($id: ID!) { ${mutation}(id: $id) { booking { status } ${ERROR_FIELDS} } }`, {id: b.id});
    if (payload.errors.length) return showErrors(box, payload.errors);
    ctx.refresh();
  };
  append(box, [formErrors(),
    h("div", {class: "actions"},
      b.status === "CONFIRMED" ? h("button", {type: "button", class: "primary", onclick: () => act("bookingCheckIn")}, t("到店登记", "Check in")) : null,
      b.status === "CHECKED_IN" && manager ? h("button", {type: "button", class: "primary", onclick: () => act("bookingStart")}, t("开始施工", "Start work")) : null),
    ["CHECKED_IN", "IN_SERVICE"].includes(b.status) && manager ? completeForm(ctx, box, b) : null]);
  return box;
}

function calendarPage(ctx) {
  const days = ctx.data?.repairShopCalendar || [];
  const manager = MANAGERS.includes(roleAt(ctx, ctx.params.vendorId)?.role);
  const from = ctx.query.get("from") || localDate(0);
  const base = `/vendor/${encodeURIComponent(ctx.params.vendorId)}/bookings`;
  return frame(ctx, "bookings", t("预约日历", "Bookings calendar"),
    h("nav", {class: "actions", "aria-label": t("日期", "Dates")},
      h("a", {class: "button secondary", href: href(`${base}?from=${addDays(from, -1)}`)}, t("← 前一天", "← Day before")),
      h("strong", {}, from),
      h("a", {class: "button secondary", href: href(`${base}?from=${addDays(from, 1)}`)}, t("后一天 →", "Day after →"))),
    days.length ? days.map((day) => h("section", {class: "cal-day", "aria-label": day.date},
      h("h2", {}, day.date, " ", h("span", {class: "meta"}, day.opening.length ? day.opening.map((i) => i.join("–")).join("，") : t("休息", "closed"))),
      h("div", {class: "calendar"}, day.bays.map((bay) => h("section", {class: "card bay", "aria-label": bay.bay.name},
        h("h3", {}, bay.bay.name, " ", h("span", {class: "meta"}, label(bay.bay.bayType))),
        bay.bookings.length ? h("ul", {class: "list"}, bay.bookings.map((b) => calendarBooking(ctx, b, manager))) : h("p", {class: "help"}, t("空闲", "Free")),
        bay.blocks.map((bl) => h("p", {class: "meta"}, t("占用 ", "Blocked "), date(bl.start), " – ", date(bl.end), " ", bl.reason)))))))
      : empty(t("该门店没有预约日历。", "This shop has no calendar.")));
}

export function register(registry) {
  registry.page("/repair", {
    title: () => t("预约门店", "Repair shops"),
    query: (ctx) => ({fields: `searchShops(near: $near, first: 30) { edges { distanceKm node { id kind nameZh nameEn city district street isOpenNow
        repairShop { labourRate { ${MONEY} } } } } }`,
    variables: {near: ["GeoPointInput", {lat: Number(ctx.query.get("lat") || HOME.lat), lon: Number(ctx.query.get("lon") || HOME.lon)}]}}),
    render: shopsPage,
  });
  registry.page("/repair/:shopId", {
    title: (data) => (data.repairShop ? name(data.repairShop.vendor) : t("门店", "Shop")),
    query(ctx) {
      const service = ctx.query.get("service");
      const from = ctx.query.get("from") || localDate(0);
      const variables = {shopId: ["ID!", ctx.params.shopId]};
      let slots = "";
      if (service) {
        slots = `repairSlots(shopId: $shopId, serviceIds: [$service], dateFrom: $from, dateTo: $to) { timezone durationMinutes
          days { date slots { start localTime freeBays } } }`;
        Object.assign(variables, {service: ["ID!", service], from: ["Date", from], to: ["Date", addDays(from, 6)]});
      }
      return {fields: `repairShop(shopId: $shopId) { labourRate { ${MONEY} } vendor { id nameZh nameEn city district street phone }
          services { id code nameZh nameEn isActive labourHours durationMinutes listPrice { ${MONEY} }
            variant { id price { ${PRICE_FIELDS} } memberPrice { final { ${MONEY} } } } } }
        ${slots} ${ctx.session.signedIn ? `sfGarage: myGarage { id nickname year isDefault vehicle { ${VEHICLE_FIELDS} } }` : ""}`, variables};
    },
    render: shopPage,
  });
  registry.page("/bookings", {
    auth: "member",
    title: () => t("我的预约", "My bookings"),
    query: () => ({fields: `myRepairBookings(first: 30) { edges { node { ${BOOKING} } } }
      myTowRequests { id status pickupAddress pickupLat pickupLon distanceKm driver paid shop { id nameZh nameEn }
        listAmount { ${MONEY} } freeAmount { ${MONEY} } paidAmount { ${MONEY} } }`}),
    render: bookingsPage,
  });
  registry.page("/towing", {
    auth: "member",
    title: () => t("道路救援", "Request a tow"),
    query: (ctx) => ({fields: `searchShops(near: $near, first: 30) { edges { distanceKm node { id nameZh nameEn repairShop { accepting } } } }
      sfGarage: myGarage { id nickname year isDefault vehicle { ${VEHICLE_FIELDS} } }`,
    variables: {near: ["GeoPointInput", {lat: Number(ctx.query.get("lat") || HOME.lat), lon: Number(ctx.query.get("lon") || HOME.lon)}]}}),
    render: towingPage,
  });
  registry.nav("shop", {path: "/repair", label: () => t("预约保养", "Book a service"), order: 25});
  registry.nav("shop", {path: "/bookings", label: () => t("我的预约", "My bookings"), order: 42, show: (ctx) => Boolean(ctx.me)});
  registry.page("/vendor/:vendorId/bookings", {
    auth: "member",
    title: () => t("预约日历", "Bookings calendar"),
    query: (ctx) => {
      const from = ctx.query.get("from") || localDate(0);
      return {fields: `repairShopCalendar(vendorId: $vendorId, dateFrom: $from, dateTo: $from) { date opening
          bays { bay { id name bayType } bookings { ${BOOKING} customerEmail } blocks { start end reason } } }`,
      variables: {vendorId: ["ID!", ctx.params.vendorId], from: ["Date", from]}};
    },
    render: calendarPage,
  });
  registry.nav("vendor", {key: "bookings", path: "/bookings", label: () => t("预约日历", "Bookings"), order: 15});
}
