"""Members for plugins: look-ups and a per-user lock. The user objects a request carries
(`info.context.user`) may be passed to these and to your services; never write to them.

- `get_user(user_id)` / `find_user(email)`: the user, or None;
- `lock_user(user_id)`: inside your transaction, serialise changes to one member's data
  (e.g. a count limit) by locking their row;
- `user_emails(ids)`: {user_id: e-mail};
- `contacts(ids)`: {user_id: ContactInfo} (name, e-mail, phone and district of the default
  address), with `mask_phone` / `mask_email` to show them to vendors;
- `AUTH_USER_MODEL`: reference users in ForeignKeys with `settings.AUTH_USER_MODEL`.
"""
from dataclasses import dataclass

from django.conf import settings

AUTH_USER_MODEL = settings.AUTH_USER_MODEL


@dataclass(frozen=True)
class ContactInfo:
    user_id: int
    email: str
    name: str
    phone: str
    province: str
    city: str
    district: str


def get_user(user_id):
    from marketplace.accounts.models import User

    return User.objects.filter(pk=user_id).first()


def find_user(email):
    from marketplace.accounts.models import User

    return User.objects.filter(email__iexact=(email or "").strip()).first()


def lock_user(user_id):
    from marketplace.accounts.models import User

    return User.objects.select_for_update().filter(pk=user_id).values_list("pk", flat=True).first()


def user_emails(ids) -> dict:
    from marketplace.accounts.models import User

    return dict(User.objects.filter(pk__in=list(ids)).values_list("pk", "email"))


def contacts(ids) -> dict:
    """{user_id: ContactInfo} for the users among `ids`: name, e-mail, and the phone and
    district of their default address (else their latest; blank when they have none).
    Two queries. Contact data is personal: show it masked to vendors
    (`mask_phone`, `mask_email`)."""
    from marketplace.accounts.models import Address, User

    ids = [int(i) for i in ids]
    if not ids:
        return {}
    users = User.objects.filter(pk__in=ids).values_list("pk", "email", "first_name", "last_name")
    addresses = {}
    for row in (Address.objects.filter(user_id__in=ids).order_by("user_id", "-is_default", "-pk")
                .values_list("user_id", "full_name", "phone", "province", "city", "district")):
        addresses.setdefault(row[0], row)
    found = {}
    for pk, email, first, last in users:
        address = addresses.get(pk)
        name = f"{last}{first}".strip() if _is_cjk(last + first) else f"{first} {last}".strip()
        found[pk] = ContactInfo(user_id=pk, email=email, name=name or (address[1] if address else ""),
                                phone=address[2] if address else "", province=address[3] if address else "",
                                city=address[4] if address else "", district=address[5] if address else "")
    return found


def _is_cjk(text):
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def mask_phone(phone) -> str:
    """"13800138000" -> "138****8000": the first three and last four digits kept (shorter
    numbers keep only their last two)."""
    digits = (phone or "").strip()
    if not digits:
        return ""
    if len(digits) >= 8:
        return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
    return "*" * max(len(digits) - 2, 1) + digits[-2:]


def mask_email(email) -> str:
    """"wang.xiaoming@example.com" -> "wa***@example.com"."""
    local, _, domain = (email or "").partition("@")
    if not domain:
        return mask_phone(email)
    return f"{local[:2]}***@{domain}"
