"""The declared policy of cart mutations."""
from marketplace.core.permissions import Policy, current_user, is_authenticated


class cart_owner(Policy):
    """The mutation changes the cart named by the `token` argument, which the caller must
    be allowed to use: an anonymous cart by its token, a member's only by that member
    (NOT_FOUND otherwise). Other IDs the mutation takes are references (a vendor, a
    shipping method) that the service checks. The cart reaches `perform` as `instance`."""

    name = "cart_owner"
    declares_ownership = True

    def __init__(self, argument="token", lock=False):
        self.argument, self.lock = argument, lock

    def load(self, info, arguments):
        from .services import get_checkout

        user = current_user(info)
        return get_checkout(arguments.get(self.argument), user if is_authenticated(user) else None, lock=self.lock)

    def check(self, info, arguments, instance=None):
        return None
