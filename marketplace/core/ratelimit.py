"""Fixed-window counters in the Django cache (Redis in production)."""
from django.core.cache import cache


def _key(name):
    return f"ratelimit:{name}"


def count(name):
    return int(cache.get(_key(name)) or 0)


def hit(name, window_seconds):
    """Count one event for `name`; returns the count within the current window."""
    key = _key(name)
    if cache.add(key, 1, timeout=window_seconds):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=window_seconds)
        return 1


def reset(name):
    cache.delete(_key(name))


def client_ip(request):
    from django.conf import settings

    if settings.TRUST_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return request.META.get("REMOTE_ADDR") or None
