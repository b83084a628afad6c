// Products and stock: the vendor's whole catalog (drafts too), a new product, and a product's
// edit page (its fields, each variant's prices and stock per warehouse, a new variant).

import {ERROR_FIELDS, mutate} from "sf/core/api.js";
import {field, formErrors, h, onSubmit, showErrors} from "sf/core/dom.js";
import {label, money, name, t} from "sf/core/i18n.js";
import {href, navigate, registry} from "sf/core/router.js";
import {badge, empty} from "sf/core/components.js";
import {frame, vendorPath} from "sf/pages/vendor/layout.js";

const VARIANT = `id sku name listPrice salePrice costPrice weightGrams isActive available
  stocks { warehouse { id name } quantity reserved available }`;
const TAXONOMY = `categories { id nameZh nameEn children { id nameZh nameEn children { id nameZh nameEn } } }
  brands { id nameZh nameEn } productTypes { id nameZh nameEn }`;
const WAREHOUSES = "vendorNode: node(id: $vendorId) { ... on Vendor { id warehouses { id name isActive } } }";

registry.page("/vendor/:vendorId/products", {
  auth: "member",
  title: () => t("商品与库存", "Products and stock"),
  query: (ctx) => ({
    fields: `vendorProducts(vendorId: $vendorId, first: 50, after: $after, status: $status, filter: $filter) { totalCount pageInfo { hasNextPage endCursor }
      edges { node { id slug nameZh nameEn status inStock category { nameZh nameEn } variants { ${VARIANT} } } } }`,
    variables: {vendorId: ["ID!", ctx.params.vendorId], after: ["String", ctx.query.get("after")],
      status: ["ProductStatus", ctx.query.get("status") || null],
      filter: ["ProductFilterInput", ctx.query.get("search") ? {search: ctx.query.get("search")} : null]},
  }),
  render(ctx) {
    const products = ctx.data?.vendorProducts;
    if (!products) return frame(ctx, "products", t("商品与库存", "Products and stock"));
    const base = vendorPath(ctx.params.vendorId, "/products");
    return frame(ctx, "products", t("商品与库存", "Products and stock"),
      h("div", {class: "actions"},
        h("a", {class: "button primary", href: href(`${base}/new`)}, t("新建商品", "New product")),
        h("a", {class: "button secondary", href: href(vendorPath(ctx.params.vendorId, "/import"))}, t("CSV 导入", "Import CSV")),
        h("span", {class: "meta"}, t(`共 ${products.totalCount} 件`, `${products.totalCount} products`))),
      h("form", {role: "search", class: "search", onsubmit: (event) => {
        event.preventDefault();
        const text = event.currentTarget.elements.search.value.trim();
        navigate(text ? `${base}?search=${encodeURIComponent(text)}` : base);
      }},
      h("label", {for: "product-search", class: "sr-only"}, t("按名称查找商品", "Find products by name")),
      h("input", {type: "search", id: "product-search", name: "search", value: ctx.query.get("search") || "",
        placeholder: t("按名称查找", "Find by name")}),
      h("button", {type: "submit"}, t("查找", "Find"))),
      products.edges.length ? h("div", {class: "table-wrap"}, h("table", {class: "data"},
        h("thead", {}, h("tr", {}, [t("商品", "Product"), t("状态", "Status"), "SKU", t("价格", "Price"), t("可售库存", "Available")]
          .map((x) => h("th", {scope: "col"}, x)))),
        h("tbody", {}, products.edges.map(({node: p}) => h("tr", {},
          h("td", {}, h("a", {href: href(`${base}/${encodeURIComponent(p.id)}`)}, name(p)), h("p", {class: "meta"}, name(p.category))),
          h("td", {}, badge(p.status)),
          h("td", {}, p.variants.map((v) => h("div", {}, v.sku))),
          h("td", {class: "num"}, p.variants.map((v) => h("div", {}, money(v.salePrice ?? v.listPrice)))),
          h("td", {class: "num"}, p.variants.map((v) => h("div", {class: v.available ? "" : "warn"}, v.available)))))))) :
        empty(t("还没有商品。", "No products yet.")),
      products.pageInfo.hasNextPage ? h("a", {class: "button secondary",
        href: href(`${base}?after=${encodeURIComponent(products.pageInfo.endCursor)}`)}, t("下一页", "Next page")) : null);
  },
});

function categoryChoices(categories, depth = 0) {
  return categories.flatMap((c) => [[c.id, `${"— ".repeat(depth)}${name(c)}`], ...categoryChoices(c.children || [], depth + 1)]);
}

function productFields(data, product = {}) {
  return [
    field({label: t("中文名称", "Name (Chinese)"), name: "nameZh", value: product.nameZh, required: true}),
    field({label: t("英文名称", "Name (English)"), name: "nameEn", value: product.nameEn}),
    field({label: t("网址标识（slug）", "Slug"), name: "slug", value: product.slug, required: true,
      help: t("小写字母、数字和连字符。", "Lowercase letters, digits and hyphens.")}),
    field({label: t("分类", "Category"), name: "category", value: product.category?.id, required: true,
      choices: [["", t("选择分类", "Choose a category")], ...categoryChoices(data.categories)]}),
    field({label: t("品牌", "Brand"), name: "brand", value: product.brand?.id,
      choices: [["", t("无", "None")], ...data.brands.map((b) => [b.id, name(b)])]}),
    field({label: t("商品类型", "Product type"), name: "productType", value: product.productType?.id, required: true,
      choices: [["", t("选择类型", "Choose a type")], ...data.productTypes.map((p) => [p.id, name(p)])]}),
    field({label: t("状态", "Status"), name: "status", value: product.status || "DRAFT",
      choices: [["DRAFT", label("DRAFT")], ["PUBLISHED", label("PUBLISHED")]]}),
    field({label: t("中文描述", "Description (Chinese)"), name: "descriptionZh", type: "textarea", rows: 3, value: product.descriptionZh}),
    field({label: t("英文描述", "Description (English)"), name: "descriptionEn", type: "textarea", rows: 3, value: product.descriptionEn}),
  ];
}

function productInput(values) {
  const input = {};
  for (const key of ["nameZh", "nameEn", "slug", "descriptionZh", "descriptionEn", "status"]) input[key] = values[key];
  input.category = values.category || null;
  input.brand = values.brand || null;
  input.productType = values.productType || null;
  return input;
}

registry.page("/vendor/:vendorId/products/new", {
  auth: "member",
  title: () => t("新建商品", "New product"),
  query: () => ({fields: TAXONOMY}),
  render(ctx) {
    return frame(ctx, "products", t("新建商品", "New product"),
      h("form", {class: "stack card", novalidate: true, onsubmit: onSubmit(async (values, form) => {
        const payload = await mutate(`mutation Create($v: ID!, $input: ProductInput!) {
          productCreate(vendorId: $v, input: $input) { product { id } ${ERROR_FIELDS} } }`,
        {v: ctx.params.vendorId, input: productInput(values)});
        if (payload.errors.length) return showErrors(form, payload.errors);
        navigate(vendorPath(ctx.params.vendorId, `/products/${encodeURIComponent(payload.product.id)}`));
      })},
        productFields(ctx.data),
        formErrors(),
        h("button", {type: "submit", class: "primary"}, t("创建并添加规格", "Create, then add variants"))));
  },
});

function variantForm(ctx, variant, warehouses) {
  const stockFields = warehouses.map((w) => {
    const stock = variant?.stocks?.find((s) => s.warehouse.id === w.id);
    return field({label: t(`库存 · ${w.name}`, `Stock · ${w.name}`), name: `stock:${w.id}`, type: "number", min: 0, step: 1,
      inputmode: "numeric", value: stock ? stock.quantity : "", inline: true,
      help: stock?.reserved ? t(`已预留 ${stock.reserved}`, `${stock.reserved} reserved`) : null,
      attrs: {"data-error-alias": "quantity"}});
  });
  return h("form", {class: "card stack variant-form", novalidate: true, "aria-label": variant ? `${t("规格", "Variant")} ${variant.sku}` : t("新规格", "New variant"),
    onsubmit: onSubmit(async (values, form) => {
      const input = {sku: values.sku, name: values.name, listPrice: values.listPrice, salePrice: values.salePrice || null,
        costPrice: values.costPrice || null, weightGrams: values.weightGrams === "" ? null : Number.parseInt(values.weightGrams, 10)};
      const payload = variant
        ? await mutate(`mutation Save($id: ID!, $input: VariantInput!) { productVariantUpdate(id: $id, input: $input) {
            variant { id } ${ERROR_FIELDS} } }`, {id: variant.id, input})
        : await mutate(`mutation Add($p: ID!, $input: VariantInput!) { productVariantCreate(productId: $p, input: $input) {
            variant { id } ${ERROR_FIELDS} } }`, {p: ctx.params.productId, input});
      if (payload.errors.length) return showErrors(form, payload.errors);
      const errors = [];
      for (const w of warehouses) {
        const raw = values[`stock:${w.id}`];
        const before = variant?.stocks?.find((s) => s.warehouse.id === w.id)?.quantity;
        if (raw === "" || Number(raw) === before) continue;
        const quantity = Number.parseInt(raw, 10);
        const set = await mutate(`mutation Stock($v: ID!, $w: ID!, $q: Int!) { stockSet(variantId: $v, warehouseId: $w, quantity: $q) {
          ${ERROR_FIELDS} } }`, {v: payload.variant.id, w: w.id, q: Number.isFinite(quantity) ? quantity : -1});
        errors.push(...set.errors.map((e) => ({...e, field: e.field === "quantity" || !e.field ? `stock:${w.id}` : e.field})));
      }
      if (errors.length) return showErrors(form, errors);
      ctx.refresh();
    })},
  h("h3", {}, variant ? `${variant.sku}${variant.name ? ` · ${variant.name}` : ""}` : t("添加规格", "Add a variant")),
  h("div", {class: "grid-fields"},
    field({label: "SKU", name: "sku", value: variant?.sku, required: true}),
    field({label: t("规格名", "Variant name"), name: "name", value: variant?.name}),
    field({label: t("标价", "List price"), name: "listPrice", value: variant?.listPrice, required: true, inputmode: "decimal"}),
    field({label: t("促销价", "Sale price"), name: "salePrice", value: variant?.salePrice, inputmode: "decimal"}),
    field({label: t("成本价", "Cost price"), name: "costPrice", value: variant?.costPrice, inputmode: "decimal"}),
    field({label: t("重量（克）", "Weight (g)"), name: "weightGrams", type: "number", min: 0, value: variant?.weightGrams, inputmode: "numeric"}),
    stockFields),
  formErrors(),
  h("button", {type: "submit", class: variant ? "secondary" : "primary"}, variant ? t("保存规格", "Save variant") : t("添加规格", "Add variant")));
}

registry.page("/vendor/:vendorId/products/:productId", {
  auth: "member",
  title: (data) => (data.product ? name(data.product) : t("商品", "Product")),
  query: (ctx) => ({
    fields: `product(id: $productId) { id slug nameZh nameEn descriptionZh descriptionEn status
      category { id } brand { id } productType { id } vendor { slug } variants { ${VARIANT} } }
      ${TAXONOMY} ${WAREHOUSES}`,
    variables: {productId: ["ID!", ctx.params.productId], vendorId: ["ID!", ctx.params.vendorId]},
  }),
  render(ctx) {
    const product = ctx.data?.product;
    if (!product) return frame(ctx, "products", t("商品", "Product"), empty(t("找不到该商品。", "Product not found.")));
    const warehouses = (ctx.data.vendorNode?.warehouses || []).filter((w) => w.isActive);
    const saved = h("p", {role: "status", class: "saved"});
    return frame(ctx, "products", name(product),
      h("p", {}, badge(product.status), " ", product.status === "PUBLISHED"
        ? h("a", {href: href(`/p/${encodeURIComponent(product.vendor.slug)}/${encodeURIComponent(product.slug)}`)}, t("查看商品页", "See it in the shop")) : null),
      h("form", {class: "stack card", novalidate: true, onsubmit: onSubmit(async (values, form) => {
        const payload = await mutate(`mutation Update($id: ID!, $input: ProductInput!) {
          productUpdate(id: $id, input: $input) { product { id } ${ERROR_FIELDS} } }`, {id: product.id, input: productInput(values)});
        if (payload.errors.length) return showErrors(form, payload.errors);
        saved.textContent = t("已保存。", "Saved.");
      })},
        h("h2", {}, t("商品信息", "Product")),
        productFields(ctx.data, product),
        formErrors(),
        h("button", {type: "submit", class: "primary"}, t("保存商品", "Save product")),
        saved),
      h("section", {"aria-labelledby": "variants-heading"},
        h("h2", {id: "variants-heading"}, t("规格、价格与库存", "Variants, prices and stock")),
        product.variants.map((v) => variantForm(ctx, v, warehouses)),
        variantForm(ctx, null, warehouses)));
  },
});
