"""Account e-mails, sent by Celery after the transaction commits."""
from urllib.parse import urlencode

from django.conf import settings
from django.db import transaction


SUBJECTS = {
    "confirm": {"en": "Confirm your e-mail address", "zh-hans": "请确认您的邮箱地址"},
    "reset": {"en": "Reset your password", "zh-hans": "重置您的密码"},
}
BODIES = {
    "confirm": {
        "en": "Welcome! Confirm your e-mail address by opening:\n{link}\n\nThe link is valid for 3 days.",
        "zh-hans": "欢迎注册！请打开以下链接确认您的邮箱：\n{link}\n\n链接3天内有效。",
    },
    "reset": {
        "en": "Someone asked to reset your password. If it was you, open:\n{link}\n\nOtherwise ignore this e-mail.",
        "zh-hans": "我们收到了重置密码的请求。如果是您本人操作，请打开：\n{link}\n\n否则请忽略本邮件。",
    },
}


def _language(user):
    return user.language if user.language in ("en", "zh-hans") else "zh-hans"


def _send(kind, user, path, params):
    from .tasks import send_email

    language = _language(user)
    link = f"{settings.STOREFRONT_URL.rstrip('/')}/{path}?{urlencode(params)}"
    subject = SUBJECTS[kind][language]
    body = BODIES[kind][language].format(link=link)
    transaction.on_commit(lambda: send_email.delay(user.email, subject, body))


def send_confirmation(user, token):
    _send("confirm", user, "account/confirm", {"email": user.email, "token": token})


def send_password_reset(user, token):
    _send("reset", user, "account/reset-password", {"email": user.email, "token": token})
