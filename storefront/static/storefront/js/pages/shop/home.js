// Home: search with as-you-type suggestions, facets, "fits my car" from the garage.
// URL: /shop/?q=刹车片&category=<id>&brand=<id>&vendor=<id>&kind=PARTS_VENDOR&stock=1
//      &fits=<Vehicle id>&year=2021&sort=PRICE_ASC&after=<cursor>

import {gql} from "sf/core/api.js";
import {h, replace, uid} from "sf/core/dom.js";
import {label, name, t} from "sf/core/i18n.js";
import {href, navigate, registry} from "sf/core/router.js";
import {MONEY, PRICE_FIELDS, VEHICLE_FIELDS, empty, productCard, vehicleName} from "sf/core/components.js";

const SORTS = [["RELEVANCE", "综合", "Relevance"], ["SALES", "销量", "Best selling"], ["PRICE_ASC", "价格从低到高", "Price: low to high"],
  ["PRICE_DESC", "价格从高到低", "Price: high to low"], ["NEWEST", "最新", "Newest"]];
const FACET_PARAM = {CATEGORY: "category", BRAND: "brand", VENDOR_KIND: "kind", IN_STOCK: "stock"};

export const PRODUCT_CARD_FIELDS = `id slug nameZh nameEn images inStock brand { nameZh nameEn } vendor { slug nameZh nameEn }
  variants { id price { final { ${MONEY} } } }`;

function filterFrom(query) {
  const filter = {};
  const all = (key) => query.getAll(key).filter(Boolean);
  if (all("category").length) filter.categories = all("category");
  if (all("brand").length) filter.brands = all("brand");
  if (all("vendor").length) filter.vendors = all("vendor");
  if (query.get("kind")) filter.vendorKind = query.get("kind");
  if (query.get("stock")) filter.inStock = query.get("stock") === "true";
  if (query.get("fits")) {
    filter.fitsVehicle = query.get("fits");
    if (query.get("year")) filter.fitsYear = Number(query.get("year"));
  }
  return filter;
}

function withParams(query, changes) {
  const next = new URLSearchParams(query);
  next.delete("after");
  for (const [key, value] of Object.entries(changes)) {
    next.delete(key);
    for (const v of [].concat(value ?? [])) if (v !== "" && v !== null && v !== undefined) next.append(key, v);
  }
  const text = next.toString();
  return text ? `/?${text}` : "/";
}

function nextPage(query, cursor) {
  const next = new URLSearchParams(query);
  next.set("after", cursor);
  return next;
}

function searchBox(ctx) {
  const listId = uid("suggestions");
  const inputId = uid("q");
  const input = h("input", {
    id: inputId, type: "search", name: "q", value: ctx.query.get("q") || "", role: "combobox",
    "aria-autocomplete": "list", "aria-expanded": "false", "aria-controls": listId, autocomplete: "off",
    placeholder: t("零件名、品牌、OE 号…", "Part, brand, OE number…"), enterkeyhint: "search",
  });
  const list = h("ul", {id: listId, role: "listbox", class: "suggestions", hidden: true,
    "aria-label": t("搜索建议", "Suggestions")});
  let items = [], active = -1, timer = null, seq = 0;

  const close = () => {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  };
  const mark = () => {
    [...list.children].forEach((li, i) => li.setAttribute("aria-selected", String(i === active)));
    if (active >= 0) input.setAttribute("aria-activedescendant", list.children[active].id);
    else input.removeAttribute("aria-activedescendant");
  };
  const choose = (item) => {
    close();
    if (item.kind === "product") navigate(`/product/${encodeURIComponent(item.id)}`);
    else if (item.kind === "brand") navigate(withParams(new URLSearchParams(), {brand: item.id}));
    else navigate(withParams(new URLSearchParams(), {vendor: item.id}));
  };
  const kinds = {product: t("商品", "Product"), brand: t("品牌", "Brand"), shop: t("店铺", "Shop")};

  async function suggest() {
    const prefix = input.value.trim();
    const mine = ++seq;
    if (!prefix) return close();
    let data;
    try {
      data = await gql(`query Suggest($p: String!) { suggest(prefix: $p, limit: 5) {
        products { text id } brands { text id } shops { text id } } }`, {p: prefix});
    } catch {
      return close();
    }
    if (mine !== seq) return;
    const s = data.suggest;
    items = [...s.products.map((x) => ({...x, kind: "product"})), ...s.brands.map((x) => ({...x, kind: "brand"})),
      ...s.shops.map((x) => ({...x, kind: "shop"}))];
    active = -1;
    replace(list, items.map((item, i) => h("li", {
      id: `${listId}-${i}`, role: "option", "aria-selected": "false", class: "suggestion",
      onmousedown: (e) => e.preventDefault(), onclick: () => choose(item),
    }, h("span", {class: "kind"}, kinds[item.kind]), " ", item.text)));
    list.hidden = items.length === 0;
    input.setAttribute("aria-expanded", String(items.length > 0));
  }

  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(suggest, 120);
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown" && items.length) {
      e.preventDefault();
      if (list.hidden) { list.hidden = false; input.setAttribute("aria-expanded", "true"); }
      active = (active + 1) % items.length;
      mark();
    } else if (e.key === "ArrowUp" && items.length) {
      e.preventDefault();
      active = active <= 0 ? items.length - 1 : active - 1;
      mark();
    } else if (e.key === "Enter" && active >= 0 && !list.hidden) {
      e.preventDefault();
      choose(items[active]);
    } else if (e.key === "Escape" && !list.hidden) {
      e.preventDefault();  // close the suggestions only; a search field would also clear itself
      close();
    }
  });
  input.addEventListener("blur", () => setTimeout(close, 150));

  return h("form", {role: "search", class: "search", onsubmit: (e) => {
    e.preventDefault();
    close();
    navigate(withParams(ctx.query, {q: input.value.trim(), brand: [], vendor: [], category: []}));
  }},
    h("label", {for: inputId, class: "sr-only"}, t("搜索商品", "Search products")),
    h("div", {class: "combo"}, input, list),
    h("button", {type: "submit"}, t("搜索", "Search")));
}

function fitsControl(ctx, garage) {
  if (!ctx.me) {
    return h("p", {class: "fits-hint"}, h("a", {href: href("/signin?next=/garage")},
      t("登录并添加爱车，只看适配您车型的配件", "Sign in and add your car to see only parts that fit it")));
  }
  if (!garage.length) {
    return h("p", {class: "fits-hint"}, h("a", {href: href("/garage")}, t("添加爱车，只看适配的配件", "Add your car to see parts that fit it")));
  }
  const id = uid("fits");
  const current = ctx.query.get("fits") ? `${ctx.query.get("fits")}|${ctx.query.get("year") || ""}` : "";
  return h("div", {class: "field field-inline fits"},
    h("label", {for: id}, t("适配我的车", "Fits my car")),
    h("select", {id, name: "fits", onchange: (e) => {
      const [vehicle, year] = e.target.value.split("|");
      navigate(withParams(ctx.query, {fits: vehicle || [], year: year || []}));
    }},
      h("option", {value: ""}, t("全部车型", "Any car")),
      garage.map((g) => {
        const value = `${g.vehicle.id}|${g.year}`;
        return h("option", {value, selected: value === current},
          `${g.nickname ? `${g.nickname} · ` : ""}${vehicleName(g.vehicle, g.year)}`);
      })));
}

function facetsPanel(ctx, facets) {
  return h("details", {class: "facets", open: window.matchMedia("(min-width: 48em)").matches || null},
    h("summary", {}, t("筛选", "Filters")),
    facets.filter((f) => f.values.length).map((facet) => {
      const param = FACET_PARAM[facet.name];
      const chosen = ctx.query.getAll(param);
      return h("fieldset", {class: "facet"},
        h("legend", {}, label(facet.name)),
        facet.values.map((v) => {
          const id = uid(`facet-${param}`);
          const on = chosen.includes(v.value);
          const text = v.category ? name(v.category) : v.brand ? name(v.brand)
            : facet.name === "IN_STOCK" ? (v.value === "true" ? t("有货", "In stock") : t("缺货", "Out of stock"))
              : facet.name === "VENDOR_KIND" ? label(v.value) : v.label;
          return h("div", {class: "check"},
            h("input", {type: "checkbox", id, checked: on, onchange: () => {
              const multi = param === "category" || param === "brand";
              const next = on ? chosen.filter((x) => x !== v.value) : multi ? [...chosen, v.value] : [v.value];
              navigate(withParams(ctx.query, {[param]: next}));
            }}),
            h("label", {for: id}, text, h("span", {class: "count"}, ` (${v.count})`)));
        }));
    }));
}

registry.page("/", {
  title: (data, ctx) => ctx.query.get("q") || "",
  query(ctx) {
    const garage = ctx.session.signedIn ? `myGarage { id year nickname isDefault vehicle { ${VEHICLE_FIELDS} } }` : "";
    return {
      fields: `${garage}
        search: searchProducts(query: $q, filter: $filter, sortBy: $sort, first: 20, after: $after) {
          totalCount backend pageInfo { hasNextPage endCursor }
          products { ${PRODUCT_CARD_FIELDS} }
          facets { name values { value label count category { id nameZh nameEn } brand { id nameZh nameEn } } }
          unsupported { capability message } }`,
      variables: {
        q: ["String", ctx.query.get("q") || null], filter: ["SearchFilterInput", filterFrom(ctx.query)],
        sort: ["ProductSearchSort", ctx.query.get("sort") || "RELEVANCE"], after: ["String", ctx.query.get("after") || null],
      },
    };
  },
  render(ctx) {
    const {search} = ctx.data;
    const garage = ctx.data.myGarage || [];
    const q = ctx.query.get("q");
    const sortId = uid("sort");
    const fitted = ctx.query.get("fits") ? garage.find((g) => g.vehicle.id === ctx.query.get("fits")) : null;
    return [
      h("section", {class: "hero"},
        h("h1", {}, q ? t(`“${q}”的搜索结果`, `Results for “${q}”`) : t("找配件，买放心", "Find the right part")),
        searchBox(ctx),
        fitsControl(ctx, garage)),
      h("div", {class: "results-layout"},
        facetsPanel(ctx, search.facets),
        h("section", {class: "results", "aria-labelledby": "results-heading"},
          h("div", {class: "results-head"},
            h("h2", {id: "results-heading", "aria-live": "polite"},
              t(`共 ${search.totalCount} 件商品`, `${search.totalCount} products`),
              fitted ? h("span", {class: "fits-note"}, t(` · 适配 ${vehicleName(fitted.vehicle, fitted.year)}`,
                ` · fit ${vehicleName(fitted.vehicle, fitted.year)}`)) : null),
            h("div", {class: "field field-inline"},
              h("label", {for: sortId}, t("排序", "Sort")),
              h("select", {id: sortId, onchange: (e) => navigate(withParams(ctx.query, {sort: e.target.value}))},
                SORTS.map(([value, zh, en]) => h("option", {value, selected: (ctx.query.get("sort") || "RELEVANCE") === value},
                  t(zh, en)))))),
          search.products.length ? h("ul", {class: "grid"}, search.products.map((p) => productCard(p)))
            : empty(t("没有找到商品，换个关键词试试。", "No products found. Try other words.")),
          search.pageInfo.hasNextPage ? h("p", {class: "more"},
            h("a", {class: "button secondary", href: href(`/?${nextPage(ctx.query, search.pageInfo.endCursor)}`)},
            t("下一页", "Next page"))) : null)),
    ];
  },
});
