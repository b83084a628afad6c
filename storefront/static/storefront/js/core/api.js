// The one GraphQL client of the storefront and the dashboard: POST /graphql/ with the
// member's Bearer token, refreshed before it expires (or once when the API says it did).
// Pages batch what they need into one document (app.js adds the header's fields).

const config = JSON.parse(document.getElementById("sf-config").textContent);
export const ENDPOINT = config.graphql;
export const BASE = config.base;
export const EXTENSIONS = config.extensions;

const ACCESS = "sf.access", REFRESH = "sf.refresh", CART = "sf.cart";
const store = window.localStorage;

/** A request that failed as a whole: network, HTTP, or GraphQL errors without data. */
export class ApiError extends Error {
  constructor(message, errors = []) {
    super(message);
    this.errors = errors;
    this.code = errors[0]?.extensions?.code || errors[0]?.code || null;
  }
}

export const session = {
  get access() { return store.getItem(ACCESS); },
  get refresh() { return store.getItem(REFRESH); },
  get signedIn() { return Boolean(store.getItem(REFRESH) || store.getItem(ACCESS)); },
  setTokens(access, refresh) {
    store.setItem(ACCESS, access);
    if (refresh) store.setItem(REFRESH, refresh);
  },
  clear() { store.removeItem(ACCESS); store.removeItem(REFRESH); },
  /** An anonymous cart's token (a member's cart is found with `myCheckout`). */
  get cartToken() { return store.getItem(CART); },
  set cartToken(token) { token ? store.setItem(CART, token) : store.removeItem(CART); },
};

function expiresSoon(token) {
  try {
    const claims = JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
    return !claims.exp || claims.exp * 1000 < Date.now() + 30_000;
  } catch {
    return true;
  }
}

let refreshing = null;

async function refreshTokens() {
  if (!session.refresh) return false;
  refreshing = refreshing || (async () => {
    try {
      const body = await post(`mutation Refresh($t: String!) { tokenRefresh(refreshToken: $t) {
        accessToken refreshToken errors { code } } }`, {t: session.refresh}, null);
      const payload = body.data?.tokenRefresh;
      if (payload?.accessToken) {
        session.setTokens(payload.accessToken, payload.refreshToken);
        return true;
      }
      session.clear();
      return false;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

async function post(query, variables, token) {
  const headers = {"Content-Type": "application/json", Accept: "application/json"};
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(ENDPOINT, {method: "POST", headers, body: JSON.stringify({query, variables})});
  } catch (error) {
    throw new ApiError("network");
  }
  let body;
  try {
    body = await response.json();
  } catch {
    throw new ApiError(`HTTP ${response.status}`);
  }
  return body;
}

const AUTH_CODES = new Set(["TOKEN_EXPIRED", "TOKEN_INVALID", "TOKEN_REVOKED", "ACCOUNT_INACTIVE"]);

function authFailure(body) {
  const codes = (body.errors || []).map((e) => e.extensions?.code);
  for (const value of Object.values(body.data || {})) {
    for (const e of value?.errors || []) if (!e.field) codes.push(e.code);  // not e.g. accountConfirm's token
  }
  return codes.find((code) => AUTH_CODES.has(code));
}

/** Run a document; resolves to its `data`. Field errors of mutations stay in the payloads
 * (`errors: [{field, code, message}]`) for the page to show next to its fields. Throws
 * ApiError when the request failed as a whole. */
export async function gql(query, variables = {}) {
  if (session.access && expiresSoon(session.access)) await refreshTokens();
  let body = await post(query, variables, session.access);
  const failure = authFailure(body);
  if (failure && session.signedIn) {
    if (!(failure === "TOKEN_EXPIRED" && (await refreshTokens()))) session.clear();
    body = await post(query, variables, session.access);
  }
  if (body.errors?.length && !body.data) throw new ApiError(body.errors[0].message, body.errors);
  if (body.errors?.length) {
    const error = new ApiError(body.errors[0].message, body.errors);
    error.data = body.data;
    throw error;
  }
  return body.data;
}

/** Run a one-mutation document and return its payload (`data[key]`). */
export async function mutate(query, variables, key) {
  // The page is busy while a change is on its way: a handler that re-renders the page after
  // it (ctx.refresh()) keeps <main aria-busy> true until the new render, so nothing acts on
  // (or tests) the old form in between; on errors the page stays as it is.
  const main = document.querySelector("main");
  const wasBusy = main?.getAttribute("aria-busy") === "true";
  main?.setAttribute("aria-busy", "true");
  try {
    const data = await gql(query, variables);
    const name = key || Object.keys(data)[0];
    return data[name] || {errors: [{field: null, code: "INVALID", message: "No answer."}]};
  } finally {
    if (!wasBusy) main?.setAttribute("aria-busy", "false");
  }
}

export const ERROR_FIELDS = "errors { field code message }";
