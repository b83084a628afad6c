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


# Permission policies for mutations (BaseMutation.permission): each takes `info` and
# raises PermissionDenied/AuthenticationError, or returns normally.
def allow_any(info):
    return None


def authenticated(info):
    require_login(info)


def platform_staff(info):
    require_platform_staff(info)
