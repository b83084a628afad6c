// Two languages: zh-Hans (the default) and en. Every text is written in both where it is
// used: t("中文", "English"). Catalog names come from the API in both (nameZh/nameEn).

const KEY = "sf.lang";
export const LANGUAGES = [["zh-Hans", "中文"], ["en", "English"]];

export let lang = localStorage.getItem(KEY) === "en" ? "en" : "zh-Hans";

export function setLang(value) {
  lang = value === "en" ? "en" : "zh-Hans";
  localStorage.setItem(KEY, lang);
  document.documentElement.lang = lang;
}
document.documentElement.lang = lang;

export const t = (zh, en) => (lang === "en" ? en : zh);

/** The object's name in the current language, falling back to the other one. */
export function name(obj, field = "name") {
  if (!obj) return "";
  const zh = obj[`${field}Zh`], en = obj[`${field}En`];
  return (lang === "en" ? en || zh : zh || en) || "";
}

const SYMBOLS = {CNY: "¥", USD: "$", EUR: "€"};

/** {amount: "268.00", currency: "CNY"} (or a decimal string) as "¥268.00". The amount is
 * shown as the API gives it (two places): no floating point on money here. */
export function money(value, currency = "CNY") {
  if (value === null || value === undefined) return "—";
  const amount = typeof value === "object" ? value.amount : String(value);
  const cur = typeof value === "object" ? value.currency : currency;
  const negative = amount.startsWith("-");
  return `${negative ? "-" : ""}${SYMBOLS[cur] || `${cur} `}${negative ? amount.slice(1) : amount}`;
}

export function date(iso) {
  if (!iso) return "";
  return new Intl.DateTimeFormat(lang, {dateStyle: "medium", timeStyle: "short", timeZone: "Asia/Shanghai"})
    .format(new Date(iso));
}

const STATUS = {
  UNPAID: ["待付款", "Awaiting payment"], PAID: ["已付款", "Paid"], PARTIALLY_FULFILLED: ["部分发货", "Partly shipped"],
  FULFILLED: ["已发货", "Shipped"], COMPLETED: ["已完成", "Completed"], CANCELLED: ["已取消", "Cancelled"],
  REFUNDED: ["已退款", "Refunded"], PENDING: ["处理中", "Pending"], SUCCEEDED: ["成功", "Succeeded"],
  FAILED: ["失败", "Failed"], DRAFT: ["草稿", "Draft"], PUBLISHED: ["已上架", "Published"],
  OWNER: ["店主", "Owner"], MANAGER: ["经理", "Manager"], STAFF: ["店员", "Staff"],
  PARTS_VENDOR: ["配件商", "Parts seller"], REPAIR_SHOP: ["维修厂", "Repair shop"], DEALER: ["4S店", "Dealer"],
  CATEGORY: ["分类", "Category"], BRAND: ["品牌", "Brand"], VENDOR_KIND: ["店铺类型", "Shop type"],
  IN_STOCK: ["库存", "Stock"], CAPTURED: ["已支付", "Captured"], AUTHORIZED: ["已授权", "Authorised"], OE: ["原厂号", "OE"], MANUFACTURER: ["厂商号", "Maker's"],
};

/** A status or enum value in words (falls back to the value itself). */
export function label(value) {
  const pair = STATUS[value];
  return pair ? t(pair[0], pair[1]) : value;
}
