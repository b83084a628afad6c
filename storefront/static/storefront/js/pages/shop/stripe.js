// Paying by card with Stripe, when the engine has Stripe configured (paymentGateways lists
// "stripe" with its publishable key). Card details must go to Stripe's own script, which
// Stripe serves only from its site: this is the one script the storefront does not serve
// itself, and it is loaded only when a buyer pays by Stripe (never on the embedded defaults).

import {h, replace} from "sf/core/dom.js";
import {money, t} from "sf/core/i18n.js";

const STRIPE_JS = "https://js.stripe.com/v3/";
let loading = null;

function loadStripe() {
  if (window.Stripe) return Promise.resolve(window.Stripe);
  loading = loading || new Promise((resolve, reject) => {
    const script = h("script", {src: STRIPE_JS, async: true});
    script.addEventListener("load", () => (window.Stripe ? resolve(window.Stripe) : reject(new Error("no Stripe"))));
    script.addEventListener("error", () => {
      loading = null;
      script.remove();
      reject(new Error("load failed"));
    });
    document.head.append(script);
  });
  return loading;
}

export function payWithStripe(ctx, order, info, config, done) {
  const status = h("div", {class: "form-errors", role: "alert", tabindex: "-1"});
  const mount = h("div", {class: "card-element", id: "stripe-card"});
  const button = h("button", {type: "submit", class: "primary big", disabled: true}, t(`支付 ${money(order.amountDue)}`, `Pay ${money(order.amountDue)}`));
  let stripe = null, card = null;
  const form = h("form", {class: "card stack stripe-form", onsubmit: async (event) => {
    event.preventDefault();
    button.disabled = true;
    const result = await stripe.confirmCardPayment(info.clientSecret, {payment_method: {card}});
    if (result.error) {
      replace(status, h("p", {}, result.error.message));
      button.disabled = false;
      return;
    }
    done();
  }},
  h("h2", {}, t("银行卡支付（Stripe）", "Pay by card (Stripe)")),
  h("label", {for: "stripe-card"}, t("卡号、有效期、CVC", "Card number, expiry, CVC")),
  mount, status, button);
  if (!config.publishableKey) {
    replace(status, h("p", {}, t("Stripe 未配置。", "Stripe is not configured.")));
    return form;
  }
  loadStripe().then((Stripe) => {
    stripe = Stripe(config.publishableKey);
    card = stripe.elements().create("card");
    card.mount(mount);
    button.disabled = false;
  }).catch(() => {
    replace(status, h("p", {}, t("无法加载 Stripe 的银行卡表单（需要连接 Stripe）。", "Could not load Stripe's card form (it needs a connection to Stripe).")));
  });
  return form;
}
