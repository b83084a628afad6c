// DOM helpers: build elements safely (text is never parsed as HTML), labelled form fields,
// and the API's field errors shown next to their field.

let nextId = 0;
export const uid = (prefix = "f") => `${prefix}-${++nextId}`;

/** h("a", {href, class, onclick}, ...children): an element. Props starting with "on" are
 * listeners; true sets an empty attribute; false/null/undefined leave it out. Children may
 * be strings, numbers, nodes, arrays, or null/false (skipped). */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "value" && "value" in el) el.value = value;
    else if (key === "checked" || key === "selected") el[key] = Boolean(value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false || child === true) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/** A labelled input (or select/textarea) with a slot for its error, `name` being the API's
 * field name (camelCase). options: {label, name, type, value, required, autocomplete,
 * inputmode, min, max, step, help, choices: [[value, text]], rows, attrs}. */
export function field(options) {
  const id = options.id || uid(options.name);
  const errorId = `${id}-error`;
  const helpId = options.help ? `${id}-help` : null;
  const common = {
    id, name: options.name, required: options.required, autocomplete: options.autocomplete,
    "aria-describedby": [helpId, errorId].filter(Boolean).join(" "), ...(options.attrs || {}),
  };
  let control;
  if (options.choices) {
    control = h("select", common, options.choices.map(([value, text]) =>
      h("option", {value, selected: String(value) === String(options.value ?? "")}, text)));
  } else if (options.type === "textarea") {
    control = h("textarea", {...common, rows: options.rows || 6}, options.value ?? "");
  } else {
    control = h("input", {
      ...common, type: options.type || "text", value: options.value ?? "", inputmode: options.inputmode,
      min: options.min, max: options.max, step: options.step,
    });
  }
  return h("div", {class: `field${options.inline ? " field-inline" : ""}`},
    h("label", {for: id, class: options.required ? "required" : null}, options.label),
    control,
    helpId ? h("p", {class: "help", id: helpId}, options.help) : null,
    h("p", {class: "field-error", id: errorId, "data-error-for": options.name, "aria-live": "polite"}));
}

/** {name: value} of a form's named controls (text trimmed; checkboxes as booleans). */
export function values(form) {
  const out = {};
  for (const el of form.elements) {
    if (!el.name || el.disabled) continue;
    if (el.type === "checkbox") out[el.name] = el.checked;
    else if (el.type === "radio") { if (el.checked) out[el.name] = el.value; }
    else out[el.name] = typeof el.value === "string" ? el.value.trim() : el.value;
  }
  return out;
}

export function clearErrors(root) {
  for (const el of root.querySelectorAll("[data-error-for]")) el.textContent = "";
  for (const el of root.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  for (const el of root.querySelectorAll(".form-errors")) el.replaceChildren();
}

function slotFor(root, fieldName) {
  if (!fieldName) return null;
  const candidates = [fieldName];
  const parts = fieldName.split(".");
  for (let i = 1; i < parts.length; i++) candidates.push(parts.slice(i).join("."));
  for (const name of candidates) {
    const slot = root.querySelector(`[data-error-for="${CSS.escape(name)}"]`);
    if (slot) return slot;
  }
  return null;
}

/** Show the API's errors ([{field, code, message}]) next to their fields inside `root`
 * (matched on the whole name, then on its tail: "address.phone" finds "phone"); the rest
 * go to root's `.form-errors` box (role=alert). Focuses the first field at fault. */
export function showErrors(root, errors) {
  clearErrors(root);
  let first = null;
  const general = root.querySelector(".form-errors");
  for (const error of errors || []) {
    const slot = slotFor(root, error.field);
    if (slot) {
      slot.textContent = slot.textContent ? `${slot.textContent} ${error.message}` : error.message;
      const control = slot.id && root.querySelector(`[aria-describedby~="${CSS.escape(slot.id)}"]`);
      if (control) {
        control.setAttribute("aria-invalid", "true");
        first = first || control;
      }
    } else if (general) {
      general.append(h("p", {}, error.message, error.field ? h("span", {class: "code"}, ` (${error.field})`) : null));
    }
  }
  if (first) first.focus();
  else if (general && general.childElementCount) general.focus();
  return (errors || []).length;
}

export const formErrors = () => h("div", {class: "form-errors", role: "alert", tabindex: "-1"});

/** A submit handler that disables the form's buttons while `action(values)` runs. */
export function onSubmit(action) {
  return async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    const buttons = [...form.querySelectorAll("button")];
    buttons.forEach((b) => (b.disabled = true));
    form.setAttribute("aria-busy", "true");
    try {
      await action(values(form), form, event.submitter);
    } finally {
      buttons.forEach((b) => (b.disabled = false));
      form.removeAttribute("aria-busy");
    }
  };
}
