// Sign in, register, confirm the e-mail (the link in the confirmation e-mail lands here),
// forgotten and reset password (likewise). Errors are the API's, next to their fields.

import {ERROR_FIELDS, mutate, session} from "sf/core/api.js";
import {field, formErrors, h, onSubmit, replace, showErrors} from "sf/core/dom.js";
import {lang, t} from "sf/core/i18n.js";
import {href, navigate, registry} from "sf/core/router.js";
import {pageHeader} from "sf/core/components.js";

function safeNext(value) {
  return value && value.startsWith("/") && !value.startsWith("//") ? value : "/";
}

/** After signing in: bring the anonymous cart along (problems are reported, not fatal). */
async function attachCart() {
  const token = session.cartToken;
  if (!token) return [];
  const payload = await mutate(`mutation Attach($t: UUID!) { checkoutAttach(token: $t) { problems { field code message } ${ERROR_FIELDS} } }`,
    {t: token});
  session.cartToken = null;
  return payload.problems || [];
}

registry.page("/signin", {
  title: () => t("登录", "Sign in"),
  render(ctx) {
    const next = safeNext(ctx.query.get("next"));
    return h("section", {class: "narrow"},
      pageHeader(t("登录", "Sign in")),
      h("form", {class: "stack", novalidate: true, onsubmit: onSubmit(async (values, form) => {
        const payload = await mutate(`mutation SignIn($email: String!, $password: String!) {
          tokenCreate(email: $email, password: $password) { accessToken refreshToken ${ERROR_FIELDS} } }`,
        {email: values.email, password: values.password});
        if (payload.errors.length) return showErrors(form, payload.errors);
        session.setTokens(payload.accessToken, payload.refreshToken);
        await attachCart();
        navigate(next);
      })},
        field({label: t("邮箱", "E-mail"), name: "email", type: "email", autocomplete: "username", required: true}),
        field({label: t("密码", "Password"), name: "password", type: "password", autocomplete: "current-password", required: true}),
        formErrors(),
        h("button", {type: "submit", class: "primary"}, t("登录", "Sign in"))),
      h("p", {}, h("a", {href: href(`/register?next=${encodeURIComponent(next)}`)}, t("注册新账号", "Create an account")),
        " · ", h("a", {href: href("/account/forgot")}, t("忘记密码", "Forgot your password?"))));
  },
});

registry.page("/register", {
  title: () => t("注册", "Create an account"),
  render() {
    const done = h("div", {role: "status"});
    return h("section", {class: "narrow"},
      pageHeader(t("注册", "Create an account")),
      h("form", {class: "stack", novalidate: true, onsubmit: onSubmit(async (values, form) => {
        const payload = await mutate(`mutation Register($input: AccountRegisterInput!) {
          accountRegister(input: $input) { requiresConfirmation user { email } ${ERROR_FIELDS} } }`,
        {input: {email: values.email, password: values.password, firstName: values.firstName, lastName: values.lastName,
          language: lang === "en" ? "EN" : "ZH_HANS"}});
        if (payload.errors.length) return showErrors(form, payload.errors);
        form.hidden = true;
        replace(done, h("div", {class: "notice"},
          h("p", {}, payload.requiresConfirmation
            ? t(`我们已向 ${values.email} 发送确认邮件，请打开邮件中的链接完成注册。`,
              `We sent a confirmation e-mail to ${values.email}. Open its link to finish.`)
            : t("注册成功。", "Your account is ready.")),
          h("p", {}, h("a", {href: href("/signin")}, t("去登录", "Sign in")))));
      })},
        field({label: t("邮箱", "E-mail"), name: "email", type: "email", autocomplete: "email", required: true}),
        field({label: t("密码", "Password"), name: "password", type: "password", autocomplete: "new-password", required: true,
          help: t("至少 8 位，不要太常见。", "At least 8 characters, not a common one.")}),
        field({label: t("名", "First name"), name: "firstName", autocomplete: "given-name"}),
        field({label: t("姓", "Last name"), name: "lastName", autocomplete: "family-name"}),
        formErrors(),
        h("button", {type: "submit", class: "primary"}, t("注册", "Create account"))),
      done);
  },
});

registry.page("/account/confirm", {
  title: () => t("确认邮箱", "Confirm your e-mail"),
  render(ctx) {
    const status = h("div", {role: "status"}, t("正在确认…", "Confirming…"));
    const box = h("section", {class: "narrow"}, pageHeader(t("确认邮箱", "Confirm your e-mail")), formErrors(), status);
    mutate(`mutation Confirm($token: String!) { accountConfirm(token: $token) { user { email } ${ERROR_FIELDS} } }`,
      {token: ctx.query.get("token") || ""}).then((payload) => {
      if (payload.errors.length) {
        replace(status);
        return showErrors(box, payload.errors);
      }
      replace(status, h("p", {class: "notice"}, t("邮箱已确认，欢迎！", "Your e-mail is confirmed. Welcome!")),
        h("p", {}, h("a", {href: href("/signin"), class: "button primary"}, t("去登录", "Sign in"))));
    });
    return box;
  },
});

registry.page("/account/forgot", {
  title: () => t("忘记密码", "Forgot password"),
  render() {
    const done = h("p", {role: "status"});
    return h("section", {class: "narrow"}, pageHeader(t("忘记密码", "Forgot your password?")),
      h("form", {class: "stack", novalidate: true, onsubmit: onSubmit(async (values, form) => {
        const payload = await mutate(`mutation Forgot($email: String!) { passwordResetRequest(email: $email) { ${ERROR_FIELDS} } }`,
          {email: values.email});
        if (payload.errors.length) return showErrors(form, payload.errors);
        replace(done, t("如果该邮箱已注册，您会收到重置密码的邮件。", "If the address has an account, a reset e-mail is on its way."));
      })},
        field({label: t("邮箱", "E-mail"), name: "email", type: "email", autocomplete: "email", required: true}),
        formErrors(),
        h("button", {type: "submit", class: "primary"}, t("发送重置邮件", "Send the reset e-mail"))),
      done);
  },
});

registry.page("/account/reset-password", {
  title: () => t("重置密码", "Reset password"),
  render(ctx) {
    return h("section", {class: "narrow"}, pageHeader(t("重置密码", "Choose a new password")),
      h("form", {class: "stack", novalidate: true, onsubmit: onSubmit(async (values, form) => {
        const payload = await mutate(`mutation Reset($email: String!, $password: String!, $token: String!) {
          passwordReset(email: $email, password: $password, token: $token) { ${ERROR_FIELDS} } }`,
        {email: ctx.query.get("email") || "", token: ctx.query.get("token") || "", password: values.password});
        if (payload.errors.length) return showErrors(form, payload.errors);
        session.clear();
        navigate("/signin");
      })},
        field({label: t("新密码", "New password"), name: "password", type: "password", autocomplete: "new-password", required: true}),
        h("p", {class: "field-error", "data-error-for": "token"}),
        formErrors(),
        h("button", {type: "submit", class: "primary"}, t("保存", "Save"))));
  },
});
