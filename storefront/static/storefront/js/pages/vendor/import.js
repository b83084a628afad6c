// CSV import (productImportCsv): paste the text or pick a file; the rows are shown as a
// table and each row error the API names ("row 3: list_price …") appears on its row.

import {ERROR_FIELDS, mutate} from "sf/core/api.js";
import {field, formErrors, h, onSubmit, replace, showErrors} from "sf/core/dom.js";
import {t} from "sf/core/i18n.js";
import {href, registry} from "sf/core/router.js";
import {frame, vendorPath} from "sf/pages/vendor/layout.js";

const EXAMPLE = `product_slug,name_zh,name_en,category,brand,product_type,status,sku,variant_name,list_price,sale_price,weight_grams,warehouse,quantity
corolla-pads,卡罗拉刹车片,Corolla pads,brake-pads,bosch,part,published,CP-1,前,268.00,,800,,5`;

/** RFC 4180 CSV: quoted fields, doubled quotes, CRLF or LF. Returns rows of cells. */
export function parseCsv(text) {
  const rows = [];
  let row = [], cell = "", quoted = false;
  const src = text.replace(/^\uFEFF/, "");
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (quoted) {
      if (c === '"' && src[i + 1] === '"') { cell += '"'; i++; }
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") { row.push(cell); cell = ""; }
    else if (c === "\n" || c === "\r") {
      if (c === "\r" && src[i + 1] === "\n") i++;
      row.push(cell); rows.push(row); row = []; cell = "";
    } else cell += c;
  }
  if (cell !== "" || row.length) { row.push(cell); rows.push(row); }
  return rows.filter((r) => r.some((x) => x.trim() !== ""));
}

const snake = (value) => (value || "").replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

function resultTable(text, rowErrors) {
  const rows = parseCsv(text);
  if (!rows.length) return null;
  const [head, ...body] = rows;
  const byRow = new Map();
  for (const e of rowErrors) byRow.set(e.row, [...(byRow.get(e.row) || []), e]);
  return h("div", {class: "table-wrap"}, h("table", {class: "data csv-rows"},
    h("caption", {}, t("导入的行（表头为第 1 行）", "The imported rows (the header is row 1)")),
    h("thead", {}, h("tr", {}, h("th", {scope: "col"}, t("行", "Row")), head.map((c) => h("th", {scope: "col"}, c)),
      h("th", {scope: "col"}, t("问题", "Problems")))),
    h("tbody", {}, body.map((cells, index) => {
      const number = index + 2;
      const errors = byRow.get(number) || [];
      const badColumns = new Set(errors.map((e) => snake(e.field)));
      return h("tr", {class: errors.length ? "row-error" : "", "data-row": number},
        h("th", {scope: "row"}, number),
        head.map((column, i) => h("td", {class: badColumns.has(column) ? "cell-error" : ""}, cells[i] ?? "")),
        h("td", {class: "row-problems"}, errors.length
          ? errors.map((e) => h("p", {class: "field-error"}, e.field ? `${snake(e.field)}: ` : "", e.message))
          : h("span", {class: "ok"}, "✓")));
    }))));
}

registry.page("/vendor/:vendorId/import", {
  auth: "member",
  title: () => t("CSV 导入", "CSV import"),
  render(ctx) {
    const result = h("div", {class: "import-result", "aria-live": "polite"});
    const textField = field({label: t("CSV 内容", "CSV text"), name: "csv", type: "textarea", rows: 8, required: true,
      help: t("每行一个规格；表头见下方示例与 docs/catalog.md。", "One row per variant; the header is as in the example below and docs/catalog.md.")});
    const textarea = textField.querySelector("textarea");
    const fileId = "csv-file";
    return frame(ctx, "import", t("CSV 导入", "CSV import"),
      h("form", {class: "stack card", novalidate: true, onsubmit: onSubmit(async (values, form) => {
        replace(result);
        const payload = await mutate(`mutation Import($v: ID!, $csv: String!) { productImportCsv(vendorId: $v, csv: $csv) {
          created updated rowErrors { row field code message } ${ERROR_FIELDS} } }`, {v: ctx.params.vendorId, csv: values.csv});
        if (payload.errors.length) return showErrors(form, payload.errors);
        const rowErrors = payload.rowErrors || [];
        replace(result,
          h("p", {class: rowErrors.length ? "alert" : "notice", role: "status"},
            t(`新建 ${payload.created} 个、更新 ${payload.updated} 个商品`, `${payload.created} products created, ${payload.updated} updated`),
            rowErrors.length ? t(`；${new Set(rowErrors.map((e) => e.row)).size} 行有问题，这些行所属的商品未导入。`,
              `; ${new Set(rowErrors.map((e) => e.row)).size} rows have problems and their products were not imported.`) : "。"),
          resultTable(values.csv, rowErrors),
          h("p", {}, h("a", {href: href(vendorPath(ctx.params.vendorId, "/products"))}, t("查看商品", "See the products"))));
      })},
        h("div", {class: "field"}, h("label", {for: fileId}, t("选择 CSV 文件", "Choose a CSV file")),
          h("input", {type: "file", id: fileId, accept: ".csv,text/csv", onchange: async (event) => {
            const file = event.target.files[0];
            if (file) textarea.value = await file.text();
          }})),
        textField,
        formErrors(),
        h("button", {type: "submit", class: "primary"}, t("导入", "Import"))),
      result,
      h("details", {}, h("summary", {}, t("示例", "Example")), h("pre", {}, EXAMPLE)));
  },
});
