// My garage: the member's cars (the default first); search can then show only parts that fit.

import {ERROR_FIELDS, gql, mutate} from "sf/core/api.js";
import {field, formErrors, h, onSubmit, replace, showErrors} from "sf/core/dom.js";
import {name, t} from "sf/core/i18n.js";
import {href, registry} from "sf/core/router.js";
import {VEHICLE_FIELDS, empty, pageHeader, vehicleName} from "sf/core/components.js";

const GARAGE = `id year nickname isDefault vehicle { ${VEHICLE_FIELDS} }`;

function options(select, items, text, prompt) {
  replace(select, h("option", {value: ""}, prompt), items.map((item) => h("option", {value: item.id}, text(item))));
  select.disabled = items.length === 0;
}

function addForm(ctx, makes) {
  const make = field({label: t("品牌", "Make"), name: "make", choices: [["", t("选择品牌", "Choose a make")],
    ...makes.map((m) => [m.id, name(m)])]});
  const model = field({label: t("车型", "Model"), name: "model", choices: [["", t("先选品牌", "Choose a make first")]]});
  const vehicle = field({label: t("发动机 / 年款", "Engine and years"), name: "vehicleId",
    choices: [["", t("先选车型", "Choose a model first")]]});
  const [makeSelect, modelSelect, vehicleSelect] = [make, model, vehicle].map((f) => f.querySelector("select"));
  modelSelect.disabled = vehicleSelect.disabled = true;
  makeSelect.addEventListener("change", async () => {
    options(vehicleSelect, [], null, t("先选车型", "Choose a model first"));
    if (!makeSelect.value) return options(modelSelect, [], null, t("先选品牌", "Choose a make first"));
    const data = await gql("query Models($m: ID!) { vehicleModels(make: $m) { id nameZh nameEn } }", {m: makeSelect.value});
    options(modelSelect, data.vehicleModels, name, t("选择车型", "Choose a model"));
  });
  modelSelect.addEventListener("change", async () => {
    if (!modelSelect.value) return options(vehicleSelect, [], null, t("先选车型", "Choose a model first"));
    const data = await gql("query Vehicles($m: ID!) { vehicles(model: $m) { id yearFrom yearTo engine } }", {m: modelSelect.value});
    options(vehicleSelect, data.vehicles, (v) => `${v.engine} · ${v.yearFrom}–${v.yearTo}`, t("选择发动机", "Choose an engine"));
  });
  return h("form", {class: "stack card", novalidate: true, onsubmit: onSubmit(async (values, form) => {
    const payload = await mutate(`mutation AddCar($v: ID!, $y: Int!, $n: String, $d: Boolean) {
      garageVehicleAdd(vehicleId: $v, year: $y, nickname: $n, setDefault: $d) { garageVehicle { id } ${ERROR_FIELDS} } }`,
    {v: values.vehicleId || "", y: Number.parseInt(values.year, 10) || 0, n: values.nickname, d: values.setDefault});
    if (payload.errors.length) return showErrors(form, payload.errors);
    ctx.refresh();
  })},
    h("h2", {}, t("添加爱车", "Add a car")),
    make, model, vehicle,
    field({label: t("年款", "Model year"), name: "year", type: "number", inputmode: "numeric", required: true, min: 1950, max: 2100}),
    field({label: t("昵称（可选）", "Nickname (optional)"), name: "nickname"}),
    h("div", {class: "check"}, h("input", {type: "checkbox", id: "set-default", name: "setDefault"}),
      h("label", {for: "set-default"}, t("设为默认", "Make it my default car"))),
    formErrors(),
    h("button", {type: "submit", class: "primary"}, t("添加", "Add")));
}

registry.page("/garage", {
  auth: "member",
  title: () => t("我的车库", "My garage"),
  query: (ctx) => ({fields: `myGarage { ${GARAGE} } vehicleMakes { id nameZh nameEn }`}),
  render(ctx) {
    const garage = ctx.data.myGarage;
    const act = async (mutation, id) => {
      const payload = await mutate(`mutation Act($id: ID!) { ${mutation}(id: $id) { ${ERROR_FIELDS} } }`, {id});
      if (payload.errors.length) return showErrors(list, payload.errors);
      ctx.refresh();
    };
    const list = h("div", {}, formErrors(), garage.length ? h("ul", {class: "list"}, garage.map((g) => h("li", {class: "card row"},
      h("div", {},
        h("p", {class: "strong"}, g.nickname || vehicleName(g.vehicle, g.year), g.isDefault ? h("span", {class: "badge"}, t(" 默认", " Default")) : null),
        h("p", {class: "meta"}, vehicleName(g.vehicle, g.year))),
      h("div", {class: "actions"},
        h("a", {class: "button secondary", href: href(`/?fits=${encodeURIComponent(g.vehicle.id)}&year=${g.year}`)}, t("找适配配件", "Find parts that fit")),
        g.isDefault ? null : h("button", {type: "button", class: "secondary", onclick: () => act("garageVehicleSetDefault", g.id)}, t("设为默认", "Make default")),
        h("button", {type: "button", class: "danger", "aria-label": t(`删除 ${vehicleName(g.vehicle, g.year)}`, `Remove ${vehicleName(g.vehicle, g.year)}`),
          onclick: () => act("garageVehicleRemove", g.id)}, t("删除", "Remove"))))))
      : empty(t("车库里还没有车。", "No cars in your garage yet.")));
    return [pageHeader(t("我的车库", "My garage")), list, addForm(ctx, ctx.data.vehicleMakes)];
  },
});
