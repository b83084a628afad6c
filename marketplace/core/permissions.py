"""Who may do what. Used by every resolver and mutation.

Roles: anonymous, member (any signed-in user), vendor staff (scoped to a vendor; the
vendors app adds those checks), platform staff (`is_staff`).
"""
import functools

from .errors import ErrorCode, PermissionDenied


def current_user(info_or_request):
    request = getattr(info_or_request, "context", info_or_request)
    return request.user  # may raise AuthenticationError for a bad token


def is_authenticated(user):
    return bool(user and user.is_authenticated and user.is_active)


def is_platform_staff(user):
    return is_authenticated(user) and user.is_staff


def require_login(info):
    user = current_user(info)
    if not is_authenticated(user):
        raise PermissionDenied("You must be signed in.", code=ErrorCode.NOT_AUTHENTICATED)
    return user


def require_platform_staff(info):
    user = require_login(info)
    if not user.is_staff:
        raise PermissionDenied("Only platform staff may do this.")
    return user


def login_required(resolver):
    @functools.wraps(resolver)
    def wrapper(root, info, *args, **kwargs):
        require_login(info)
        return resolver(root, info, *args, **kwargs)

    return wrapper


def staff_required(resolver):
    @functools.wraps(resolver)
    def wrapper(root, info, *args, **kwargs):
        require_platform_staff(info)
        return resolver(root, info, *args, **kwargs)

    return wrapper


# -- permission policies for mutations ------------------------------------------------------
# A mutation declares one (BaseMutation.permission). A policy is checked before perform()
# runs, after the object the mutation acts on is loaded (BaseMutation.lookup), and says who
# may act and on what. Mutations that take an object ID declare whose object it is: a
# vendor's (vendors.permissions.vendor_role), the caller's own (user_owned), the caller's
# cart (cart_owner), or platform staff only; a test walks the schema and refuses a mutation
# with an ID argument under a bare `authenticated` or `allow_any` policy.
class Policy:
    """Base of declared permission policies. `check(info, arguments, instance)` raises
    PermissionDenied / AuthenticationError / NotFound, or returns normally."""

    name = "policy"
    declares_ownership = False  # True: the policy says whose object the mutation changes
    requires_login = False

    def precheck(self, info):
        """Before anything is looked up: refuse anonymous callers when the policy needs a user."""
        if self.requires_login:
            require_login(info)

    def load(self, info, arguments):
        """The object the mutation acts on, when the policy itself finds it (else None)."""
        return None

    def check(self, info, arguments, instance=None):
        raise NotImplementedError

    def __call__(self, info):  # the older, info-only calling convention
        return self.check(info, {}, None)

    def __repr__(self):
        return self.name


class _Simple(Policy):
    def __init__(self, name, function, declares_ownership=False, requires_login=False):
        self.name, self._function = name, function
        self.declares_ownership, self.requires_login = declares_ownership, requires_login

    def check(self, info, arguments, instance=None):
        self._function(info)


allow_any = _Simple("allow_any", lambda info: None)
# A signed-in user changing only their own data; any ID arguments name things anyone may
# read (a vehicle of the public registry), never someone else's object.
self_service = _Simple("self_service", require_login, declares_ownership=True, requires_login=True)
authenticated = _Simple("authenticated", require_login, requires_login=True)
platform_staff = _Simple("platform_staff", require_platform_staff, declares_ownership=True, requires_login=True)


class user_owned(Policy):
    """The caller must be signed in and own the looked-up object (`owner_from(instance)`
    gives its user id). Others get NOT_FOUND, so existence is not revealed. Platform staff
    pass when `staff=True`."""

    name = "user_owned"
    declares_ownership = True
    requires_login = True

    def __init__(self, owner_from=lambda instance: instance.user_id, staff=False, field="id"):
        self.owner_from, self.staff, self.field = owner_from, staff, field

    def check(self, info, arguments, instance=None):
        from .errors import NotFound

        user = require_login(info)
        if instance is None:
            raise NotFound("Not found.", field=self.field)
        if self.staff and user.is_staff:
            return
        if self.owner_from(instance) != user.pk:
            raise NotFound("Not found.", field=self.field)
