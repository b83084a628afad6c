"""Account state changes: registration, confirmation, sign-in, tokens, passwords,
profile and addresses. Plain functions; each is one transaction."""
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from marketplace.core import ratelimit
from marketplace.core.errors import AuthenticationError, ErrorCode, NotFound, PermissionDenied, RateLimited, ValidationError
from marketplace.core.events import emit

from . import emails, tokens
from .events import PasswordChanged, UserEmailConfirmed, UserRegistered
from .identity import canonical_email, clean_email, rate_limit_key
from .models import Address, AuthSession, User

CONFIRM_SALT = "accounts.confirm-email"


def normalize_email(email):
    """The canonical, validated form of an address (marketplace.accounts.identity)."""
    return clean_email(email)


def _validate_password(password, user=None, field="password"):
    if not password:
        raise ValidationError("A password is required.", code=ErrorCode.REQUIRED, field=field)
    try:
        password_validation.validate_password(password, user)
    except DjangoValidationError as exc:
        raise ValidationError(" ".join(exc.messages), code=ErrorCode.PASSWORD_TOO_WEAK, field=field) from None


# -- registration and confirmation ---------------------------------------------------
@transaction.atomic
def register(email, password, first_name="", last_name="", language="zh-hans"):
    email = normalize_email(email)
    if language not in dict(User.LANGUAGES):
        raise ValidationError("Unsupported language.", field="language")
    if User.objects.filter(email=email).exists():
        raise ValidationError("An account with this e-mail already exists.", code=ErrorCode.UNIQUE, field="email")
    user = User(email=email, first_name=first_name.strip(), last_name=last_name.strip(), language=language)
    _validate_password(password, user)
    user.set_password(password)
    if not settings.ACCOUNTS_REQUIRE_EMAIL_CONFIRMATION:
        user.email_confirmed_at = timezone.now()
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:  # a concurrent registration won the race
        raise ValidationError("An account with this e-mail already exists.", code=ErrorCode.UNIQUE, field="email") from None
    if not user.email_confirmed:
        emails.send_confirmation(user, confirmation_token(user))
    emit(UserRegistered(user_id=user.pk, email=user.email))
    return user


def confirmation_token(user):
    return signing.dumps({"u": user.pk, "e": user.email}, salt=CONFIRM_SALT)


@transaction.atomic
def confirm_email(token):
    try:
        data = signing.loads(
            token or "", salt=CONFIRM_SALT, max_age=settings.ACCOUNTS_CONFIRMATION_MAX_AGE.total_seconds()
        )
    except signing.SignatureExpired:
        raise ValidationError("The confirmation link has expired.", code=ErrorCode.TOKEN_EXPIRED, field="token") from None
    except signing.BadSignature:
        raise ValidationError("The confirmation link is invalid.", code=ErrorCode.TOKEN_INVALID, field="token") from None
    user = User.objects.select_for_update().filter(pk=data.get("u"), email=data.get("e")).first()
    if user is None:
        raise ValidationError("The confirmation link is invalid.", code=ErrorCode.TOKEN_INVALID, field="token")
    if not user.email_confirmed:
        user.email_confirmed_at = timezone.now()
        user.save(update_fields=["email_confirmed_at"])
        emit(UserEmailConfirmed(user_id=user.pk, email=user.email))
    return user


def resend_confirmation(email):
    """Send the confirmation again; answers the same whether or not the address exists."""
    try:
        email = normalize_email(email)
    except ValidationError:
        return
    user = User.objects.filter(email=email, email_confirmed_at__isnull=True, is_active=True).first()
    if user is not None:
        emails.send_confirmation(user, confirmation_token(user))


# -- sign-in and tokens -------------------------------------------------------------
def _check_login_rate(email, ip):
    window = settings.LOGIN_RATE_WINDOW_SECONDS
    if ip and ratelimit.hit(f"login:ip:{ip}", window) > settings.LOGIN_MAX_ATTEMPTS_PER_IP:
        raise RateLimited("Too many sign-in attempts from this address. Try again later.", retry_after=window)
    if ratelimit.count(rate_limit_key("login:account", email)) >= settings.LOGIN_MAX_FAILURES_PER_ACCOUNT:
        raise RateLimited("Too many failed sign-ins for this account. Try again later.", retry_after=window, field="email")


def _client_address(ip):
    """A valid IP address or None (the column is an IP type; a forwarded header may lie)."""
    import ipaddress

    try:
        return str(ipaddress.ip_address((ip or "").strip())) if ip else None
    except ValueError:
        return None


def _printable(text, limit):
    return "".join(c for c in str(text or "") if c.isprintable())[:limit]


def login(email, password, ip=None, user_agent=""):
    """Check the credentials and open a session. Returns (user, access, refresh).
    The account is found, and rate-limited, by the canonical form of `email` only."""
    email = canonical_email(email)
    ip = _client_address(ip)
    _check_login_rate(email, ip)
    user = User.objects.filter(email=email).first()
    if user is None or not user.check_password(password or ""):
        ratelimit.hit(rate_limit_key("login:account", email), settings.LOGIN_RATE_WINDOW_SECONDS)
        if user is None:
            User().set_password(password or "")  # same work either way: no timing oracle
        raise AuthenticationError("The e-mail or password is wrong.", code=ErrorCode.INVALID_CREDENTIALS)
    if not user.is_active:
        raise AuthenticationError("The account is deactivated.", code=ErrorCode.ACCOUNT_INACTIVE)
    if settings.ACCOUNTS_REQUIRE_EMAIL_CONFIRMATION and not user.email_confirmed:
        raise AuthenticationError("Confirm your e-mail address first.", code=ErrorCode.EMAIL_NOT_CONFIRMED, field="email")
    ratelimit.reset(rate_limit_key("login:account", email))
    with transaction.atomic():
        session = AuthSession.objects.create(
            user=user,
            refresh_jti=tokens.new_jti(),
            expires_at=timezone.now() + settings.JWT_REFRESH_TTL,
            user_agent=_printable(user_agent, 255),
            ip_address=ip,
        )
        User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    return user, tokens.issue(user, session, tokens.ACCESS), tokens.issue(user, session, tokens.REFRESH, session.refresh_jti)


def refresh(refresh_token):
    """Rotate a refresh token. Reusing an old one revokes the whole session (theft):
    that revocation is kept even though the caller gets an error."""
    claims = tokens.decode(refresh_token, tokens.REFRESH)
    with transaction.atomic():
        session = AuthSession.objects.select_for_update().select_related("user").filter(pk=claims["sid"]).first()
        if session is None or str(session.user_id) != claims["sub"]:
            raise AuthenticationError("The token is invalid.", code=ErrorCode.TOKEN_INVALID, field="refresh_token")
        if session.is_revoked:
            raise AuthenticationError("The session was signed out.", code=ErrorCode.TOKEN_REVOKED, field="refresh_token")
        reused = claims.get("jti") != session.refresh_jti
        if reused:
            session.revoked_at = timezone.now()
            session.revoked_reason = "refresh token reused"
            session.save(update_fields=["revoked_at", "revoked_reason"])
        else:
            user = session.user
            if not user.is_active:
                raise AuthenticationError("The account is deactivated.", code=ErrorCode.ACCOUNT_INACTIVE)
            session.refresh_jti = tokens.new_jti()
            session.refreshed_at = timezone.now()
            session.expires_at = session.refreshed_at + settings.JWT_REFRESH_TTL
            session.save(update_fields=["refresh_jti", "refreshed_at", "expires_at"])
    if reused:
        raise _ReusedToken()
    return user, tokens.issue(user, session, tokens.ACCESS), tokens.issue(user, session, tokens.REFRESH, session.refresh_jti)


class _ReusedToken(AuthenticationError):
    """Raised after the revocation committed (the service's own transaction ended)."""

    def __init__(self):
        super().__init__(
            "This refresh token was already used; the session has been signed out.",
            code=ErrorCode.TOKEN_REVOKED,
            field="refresh_token",
        )


def revoke_session(session, reason="signed out"):
    AuthSession.objects.filter(pk=session.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_reason=reason
    )


def logout(user=None, refresh_token=None):
    """Revoke the session named by the refresh token, or the caller's current one."""
    if refresh_token:
        claims = tokens.decode(refresh_token, tokens.REFRESH)
        session = AuthSession.objects.filter(pk=claims["sid"], user_id=claims["sub"]).first()
        if session is None:
            raise AuthenticationError("The token is invalid.", code=ErrorCode.TOKEN_INVALID, field="refresh_token")
        if user is not None and user.is_authenticated and session.user_id != user.pk:
            raise PermissionDenied("That session belongs to another account.")
    else:
        session = getattr(user, "auth_session", None)
        if session is None:
            raise AuthenticationError("You are not signed in.", code=ErrorCode.NOT_AUTHENTICATED)
    revoke_session(session)


def revoke_all_sessions(user, keep=None, reason="password changed"):
    qs = AuthSession.objects.filter(user=user, revoked_at__isnull=True)
    if keep is not None:
        qs = qs.exclude(pk=keep.pk)
    qs.update(revoked_at=timezone.now(), revoked_reason=reason)


# -- passwords ----------------------------------------------------------------------
@transaction.atomic
def change_password(user, old_password, new_password):
    if not user.check_password(old_password or ""):
        raise ValidationError("The current password is wrong.", code=ErrorCode.INVALID_CREDENTIALS, field="old_password")
    _validate_password(new_password, user, field="new_password")
    user.set_password(new_password)
    user.save(update_fields=["password"])
    revoke_all_sessions(user, keep=getattr(user, "auth_session", None))
    emit(PasswordChanged(user_id=user.pk))
    return user


def request_password_reset(email):
    """E-mail a reset link. Answers the same whether or not the address exists."""
    try:
        email = normalize_email(email)
    except ValidationError:
        return
    user = User.objects.filter(email=email, is_active=True).first()
    if user is not None:
        emails.send_password_reset(user, default_token_generator.make_token(user))


@transaction.atomic
def reset_password(email, token, new_password):
    user = User.objects.select_for_update().filter(email=canonical_email(email), is_active=True).first()
    if user is None or not default_token_generator.check_token(user, token or ""):
        raise ValidationError("The reset link is invalid or has expired.", code=ErrorCode.TOKEN_INVALID, field="token")
    _validate_password(new_password, user, field="password")
    user.set_password(new_password)
    if user.email_confirmed_at is None:
        user.email_confirmed_at = timezone.now()  # they proved they own the mailbox
    user.save(update_fields=["password", "email_confirmed_at"])
    revoke_all_sessions(user, reason="password reset")
    emit(PasswordChanged(user_id=user.pk))
    return user


# -- profile and addresses ------------------------------------------------------------
def update_profile(user, **fields):
    allowed = {"first_name", "last_name", "language"}
    changes = {k: v for k, v in fields.items() if k in allowed and v is not None}
    if "language" in changes and changes["language"] not in dict(User.LANGUAGES):
        raise ValidationError("Unsupported language.", field="language")
    for name, value in changes.items():
        setattr(user, name, value.strip() if isinstance(value, str) else value)
    if changes:
        user.save(update_fields=list(changes))
    return user


ADDRESS_FIELDS = ("full_name", "phone", "country", "province", "city", "district", "street", "postal_code")
REQUIRED_ADDRESS_FIELDS = ("full_name", "phone", "province", "city", "street")


def _clean_address(data, partial=False):
    cleaned = {}
    errors = []
    for name in ADDRESS_FIELDS:
        if name not in data or data[name] is None:
            continue
        value = str(data[name]).strip()
        max_length = Address._meta.get_field(name).max_length
        if len(value) > max_length:
            errors.append(ValidationError(f"At most {max_length} characters.", field=name))
        cleaned[name] = value
    for name in REQUIRED_ADDRESS_FIELDS:
        if (not partial or name in cleaned) and not cleaned.get(name):
            errors.append(ValidationError("This field is required.", code=ErrorCode.REQUIRED, field=name))
    if "country" in cleaned:
        cleaned["country"] = cleaned["country"].upper()
        if len(cleaned["country"]) != 2 or not cleaned["country"].isalpha():
            errors.append(ValidationError("Use a two-letter ISO country code.", field="country"))
    phone = cleaned.get("phone")
    if phone and not all(c.isdigit() or c in "+- ()" for c in phone):
        errors.append(ValidationError("Enter a valid phone number.", field="phone"))
    if errors:
        raise ValidationError(errors=errors)
    return cleaned


def _owned_address(user, address_id, lock=True):
    qs = Address.objects.select_for_update() if lock else Address.objects
    address = qs.filter(pk=address_id, user=user).first()
    if address is None:
        raise NotFound("Address not found.", field="id")
    return address


@transaction.atomic
def create_address(user, data, make_default=False):
    cleaned = _clean_address(data)
    User.objects.select_for_update().filter(pk=user.pk).first()  # serialise default changes per user
    first = not Address.objects.filter(user=user).exists()
    if make_default or first:
        Address.objects.filter(user=user, is_default=True).update(is_default=False)
    return Address.objects.create(user=user, is_default=make_default or first, **cleaned)


@transaction.atomic
def update_address(user, address_id, data):
    address = _owned_address(user, address_id)
    for name, value in _clean_address(data, partial=True).items():
        setattr(address, name, value)
    address.save()
    return address


@transaction.atomic
def delete_address(user, address_id):
    address = _owned_address(user, address_id)
    was_default = address.is_default
    address.delete()
    if was_default:
        successor = Address.objects.filter(user=user).order_by("pk").first()
        if successor is not None:
            successor.is_default = True
            successor.save(update_fields=["is_default"])


@transaction.atomic
def set_default_address(user, address_id):
    User.objects.select_for_update().filter(pk=user.pk).first()
    address = _owned_address(user, address_id)
    Address.objects.filter(user=user, is_default=True).exclude(pk=address.pk).update(is_default=False)
    if not address.is_default:
        address.is_default = True
        address.save(update_fields=["is_default"])
    return address


def clean_address(data, partial=False):
    """Validate and normalise a postal address dict (the `Address` fields: full_name, phone,
    country (ISO 3166 alpha-2), province, city, district, street, postal_code). Returns the
    cleaned dict. Raises ValidationError naming each bad field (REQUIRED, INVALID)."""
    return _clean_address(data, partial)
