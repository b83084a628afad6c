"""Canonical identities: one form of an e-mail address, computed once.

`canonical_email()` is the form the engine stores, looks up (exact match, never the
database's own case-insensitive comparison), keeps unique and rate-limits by. It is
Unicode NFKC normalisation, full case folding (`str.casefold`: "ß" -> "ss", "İ" ->
"i̇"), NFKC again, with surrounding whitespace removed. Two addresses are the same
account exactly when their canonical forms are equal, so a variant that a database's
UPPER()/LOWER() would treat as equal (e.g. a dotless "ı", which PostgreSQL upper-cases
to "I") is a different, unknown identity: it can neither sign in to the real account nor
escape that account's sign-in lockout.
"""
import hashlib
import unicodedata

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email

from marketplace.core.errors import ValidationError


def canonical_email(value):
    """The canonical form of an e-mail address (not validated; see `clean_email`)."""
    text = unicodedata.normalize("NFKC", str(value or "")).strip()
    return unicodedata.normalize("NFKC", text.casefold())


def clean_email(value, field="email"):
    """Canonicalise and validate an address someone is registering or inviting.
    Raises ValidationError(INVALID, field) when it is not a valid address."""
    email = canonical_email(value)
    try:
        validate_email(email)
    except DjangoValidationError:
        raise ValidationError("Enter a valid e-mail address.", field=field) from None
    return email


def rate_limit_key(kind, email):
    """A cache-safe rate-limit key for an identity (hash of its canonical form)."""
    digest = hashlib.sha256(canonical_email(email).encode()).hexdigest()
    return f"{kind}:{digest}"
