// Product page: variants with stock, the explained price, fitment table, OE numbers, and
// adding to the cart (the quantity's error shown next to it).

import {field, formErrors, h, onSubmit, replace, showErrors, uid} from "sf/core/dom.js";
import {label, money, name, t} from "sf/core/i18n.js";
import {href, registry} from "sf/core/router.js";
import {PRICE_FIELDS, VEHICLE_FIELDS, addToCart, badge, empty, priceExplained, vehicleName} from "sf/core/components.js";

const PRODUCT_FIELDS = `id slug nameZh nameEn descriptionZh descriptionEn images inStock status
  vendor { id slug nameZh nameEn city district kind }
  brand { nameZh nameEn } category { id nameZh nameEn parent { id nameZh nameEn } }
  attributes { attribute { nameZh nameEn unit } value }
  variants { id sku name available inStock price { ${PRICE_FIELDS} }
    fitments { ${VEHICLE_FIELDS} } partNumbers { number kind } }`;

function variantPanel(variant) {
  const fitments = variant.fitments;
  const numbers = variant.partNumbers;
  return h("div", {class: "variant-detail"},
    priceExplained(variant.price),
    h("p", {class: variant.inStock ? "stock in" : "stock out"},
      variant.inStock ? t(`有货，可购 ${variant.available} 件`, `In stock: ${variant.available} available`)
        : t("暂时缺货", "Out of stock")),
    h("section", {"aria-labelledby": "fitment-heading"},
      h("h2", {id: "fitment-heading"}, t("适配车型", "Fits these cars")),
      fitments === null || fitments === undefined ? h("p", {class: "help"}, t("暂无适配信息。", "No fitment data."))
        : fitments.length === 0 ? h("p", {class: "help"}, t("通用件或未登记适配车型。", "Universal, or no cars listed."))
          : h("div", {class: "table-wrap"}, h("table", {class: "fitment"},
            h("thead", {}, h("tr", {}, h("th", {scope: "col"}, t("品牌", "Make")), h("th", {scope: "col"}, t("车型", "Model")),
              h("th", {scope: "col"}, t("年款", "Years")), h("th", {scope: "col"}, t("发动机", "Engine")))),
            h("tbody", {}, fitments.map((v) => h("tr", {},
              h("td", {}, name(v.model.make)), h("td", {}, name(v.model)), h("td", {}, `${v.yearFrom}–${v.yearTo}`),
              h("td", {}, v.engine))))))),
    numbers && numbers.length ? h("section", {"aria-labelledby": "oe-heading"},
      h("h2", {id: "oe-heading"}, t("OE / 零件号", "OE and part numbers")),
      h("ul", {class: "part-numbers"}, numbers.map((n) => h("li", {}, h("span", {class: "badge"}, label(n.kind)), " ",
        h("code", {}, n.number))))) : null);
}

function render(ctx) {
  const product = ctx.data.product;
  if (!product) return empty(t("商品不存在或已下架。", "This product is not available."), h("a", {href: href("/")}, t("返回首页", "Back to the shop")));
  const variants = product.variants;
  let selected = variants.find((v) => v.id === ctx.query.get("variant")) || variants.find((v) => v.inStock) || variants[0];
  const detail = h("div", {});
  const draw = () => replace(detail, selected ? variantPanel(selected) : null);
  draw();
  const groupName = uid("variant");
  const errors = formErrors();
  const form = h("form", {class: "buy", onsubmit: onSubmit(async (values, formEl) => {
    const quantity = Number(values.quantity);
    const payload = await addToCart([{variantId: selected.id, quantity: Number.isFinite(quantity) ? Math.trunc(quantity) : 0}]);
    if (payload.errors.length) return showErrors(formEl, payload.errors);
    const status = formEl.querySelector(".added");
    replace(status, t(`已加入购物车（共 ${payload.checkout.quantity} 件）`, `Added to the cart (${payload.checkout.quantity} items)`),
      " ", h("a", {href: href("/cart")}, t("去购物车", "Go to the cart")));
    document.dispatchEvent(new CustomEvent("sf:cart", {detail: payload.checkout}));
  })},
    variants.length > 1 ? h("fieldset", {class: "variants"},
      h("legend", {}, t("选择规格", "Choose a variant")),
      variants.map((v) => {
        const id = uid("v");
        return h("div", {class: "check variant-option"},
          h("input", {type: "radio", id, name: groupName, value: v.id, checked: v === selected, onchange: () => {
            selected = v;
            draw();
          }}),
          h("label", {for: id}, `${v.name || v.sku} · ${money(v.price.final)}`,
            v.inStock ? null : h("span", {class: "badge badge-out"}, t(" 缺货", " Out of stock"))));
      })) : null,
    field({label: t("数量", "Quantity"), name: "quantity", type: "number", value: "1", min: 1, step: 1,
      inputmode: "numeric", required: true, inline: true}),
    errors,
    h("button", {type: "submit", class: "primary", disabled: !product.inStock}, t("加入购物车", "Add to cart")),
    h("p", {class: "added", role: "status"}));

  const attrs = product.attributes.filter((a) => a.value !== null && a.value !== "");
  return h("article", {class: "product"},
    h("nav", {class: "crumbs", "aria-label": t("位置", "Breadcrumb")},
      h("a", {href: href("/")}, t("首页", "Home")), " / ",
      product.category.parent ? [h("a", {href: href(`/?category=${encodeURIComponent(product.category.parent.id)}`)}, name(product.category.parent)), " / "] : null,
      h("a", {href: href(`/?category=${encodeURIComponent(product.category.id)}`)}, name(product.category))),
    h("div", {class: "product-layout"},
      h("div", {class: "gallery"}, product.images.length
        ? product.images.map((src) => h("img", {src, alt: name(product), width: 480, height: 360}))
        : h("div", {class: "placeholder large", "aria-hidden": "true"}, name(product).slice(0, 4))),
      h("div", {class: "summary"},
        h("h1", {}, name(product)),
        product.status === "DRAFT" ? badge("DRAFT") : null,
        h("p", {class: "meta"}, [name(product.brand), h("a", {href: href(`/?vendor=${encodeURIComponent(product.vendor.id)}`)}, name(product.vendor)),
          label(product.vendor.kind), [product.vendor.city, product.vendor.district].filter(Boolean).join(" ")]
          .filter(Boolean).flatMap((x, i) => (i ? [" · ", x] : [x]))),
        detail,
        form)),
    h("section", {class: "description"},
      h("h2", {}, t("商品详情", "Details")),
      h("p", {}, name(product, "description") || t("暂无描述。", "No description.")),
      attrs.length ? h("table", {class: "attributes"}, h("tbody", {}, attrs.map((a) => h("tr", {},
        h("th", {scope: "row"}, name(a.attribute)), h("td", {}, `${a.value}${a.attribute.unit ? ` ${a.attribute.unit}` : ""}`))))) : null));
}

const page = {
  title: (data) => (data.product ? name(data.product) : t("商品", "Product")),
  render,
};

registry.page("/p/:vendor/:slug", {
  ...page,
  query: (ctx) => ({fields: `product(vendorSlug: $vendor, slug: $slug) { ${PRODUCT_FIELDS} }`,
    variables: {vendor: ["String!", ctx.params.vendor], slug: ["String!", ctx.params.slug]}}),
});

registry.page("/product/:id", {
  ...page,
  query: (ctx) => ({fields: `product(id: $id) { ${PRODUCT_FIELDS} }`, variables: {id: ["ID!", ctx.params.id]}}),
});

