"""Signatures of outgoing webhooks.

Header `X-Marketplace-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">`,
keyed with the subscription's secret (the same scheme Stripe uses). Receivers check
the HMAC and reject old timestamps; `X-Marketplace-Delivery` is a stable id for
de-duplicating retries.
"""
import hashlib
import hmac
import time


def sign(secret, body: bytes, timestamp=None):
    timestamp = int(time.time() if timestamp is None else timestamp)
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret, body: bytes, header, tolerance=300, now=None):
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
        given = parts["v1"]
    except (ValueError, KeyError, AttributeError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, given)
