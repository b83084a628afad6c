"""Members for plugins: look-ups and a per-user lock. The user objects a request carries
(`info.context.user`) may be passed to these and to your services; never write to them.

- `get_user(user_id)` / `find_user(email)`: the user, or None;
- `lock_user(user_id)`: inside your transaction, serialise changes to one member's data
  (e.g. a count limit) by locking their row;
- `user_emails(ids)`: {user_id: e-mail};
- `AUTH_USER_MODEL`: reference users in ForeignKeys with `settings.AUTH_USER_MODEL`.
"""
from django.conf import settings

AUTH_USER_MODEL = settings.AUTH_USER_MODEL


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
