import graphene
from graphene import relay
from graphene_django import DjangoObjectType

from marketplace.api.mutations import BaseMutation
from marketplace.api.pagination import ConnectionField, CountableConnection
from marketplace.api.types import decode_id
from marketplace.core import permissions
from marketplace.core.ratelimit import client_ip

from . import services
from marketplace.api.dataloaders import then

from .dataloaders import AddressesByUserIdLoader, VendorMembershipsByUserIdLoader
from .models import Address, User

Language = graphene.Enum("LanguageCode", [("ZH_HANS", "zh-hans"), ("EN", "en")])
Role = graphene.Enum("Role", [
    ("MEMBER", "member"), ("PLATFORM_STAFF", "platform_staff"), ("VENDOR_OWNER", "owner"),
    ("VENDOR_MANAGER", "manager"), ("VENDOR_STAFF", "staff"),
], description="MEMBER for everyone; PLATFORM_STAFF for platform operators; VENDOR_* when the user holds "
               "that role at one vendor or more (see `vendorRoles` for which).")


class AddressType(DjangoObjectType):
    class Meta:
        model = Address
        name = "Address"
        interfaces = (relay.Node,)
        fields = ("full_name", "phone", "country", "province", "city", "district", "street", "postal_code", "is_default", "created_at")

    @classmethod
    def get_node(cls, info, id):
        user = permissions.require_login(info)
        return Address.objects.filter(pk=id, user=user).first()


class VendorRoleType(graphene.ObjectType):
    """One vendor the user works for, and as what. (Vendor types are referenced by path:
    accounts sits below the vendors app.)"""

    class Meta:
        name = "VendorRole"

    vendor = graphene.Field("marketplace.vendors.schema.VendorType", required=True)
    role = graphene.Field("marketplace.vendors.schema.StaffRoleEnum", required=True)


class UserType(DjangoObjectType):
    roles = graphene.List(graphene.NonNull(Role), required=True,
                          description="Platform-wide summary, e.g. [MEMBER, VENDOR_OWNER]; per vendor: `vendorRoles`.")
    vendor_roles = graphene.List(graphene.NonNull(VendorRoleType), required=True,
                                 description="The vendors this user works for (any status), with the role at each.")
    email_confirmed = graphene.Boolean(required=True)
    addresses = graphene.List(graphene.NonNull(AddressType), required=True)
    language = graphene.Field(Language, required=True)

    class Meta:
        model = User
        name = "User"
        interfaces = (relay.Node,)
        fields = ("email", "first_name", "last_name", "is_staff", "date_joined", "last_login")
        connection_class = CountableConnection

    @classmethod
    def get_node(cls, info, id):
        user = permissions.require_login(info)
        if user.is_staff or str(user.pk) == str(id):
            return User.objects.filter(pk=id).first()
        return None

    @staticmethod
    def resolve_roles(root, info):
        def summary(memberships):
            roles = ["member"]
            if root.is_staff:
                roles.append("platform_staff")
            held = {m.role for m in memberships}
            roles.extend(role for role in ("owner", "manager", "staff") if role in held)
            return roles

        return then(VendorMembershipsByUserIdLoader.for_request(info).load(root.pk), summary)

    @staticmethod
    def resolve_vendor_roles(root, info):
        return VendorMembershipsByUserIdLoader.for_request(info).load(root.pk)

    @staticmethod
    def resolve_email_confirmed(root, info):
        return root.email_confirmed

    @staticmethod
    def resolve_addresses(root, info):
        return AddressesByUserIdLoader.for_request(info).load(root.pk)


class Query(graphene.ObjectType):
    me = graphene.Field(UserType, description="The signed-in user, or null for anonymous callers.")
    users = ConnectionField(UserType, search=graphene.String(), description="All users (platform staff only).")

    @staticmethod
    def resolve_me(root, info):
        user = permissions.current_user(info)
        return user if permissions.is_authenticated(user) else None

    @staticmethod
    @permissions.staff_required
    def resolve_users(root, info, search=None, **kwargs):
        qs = User.objects.order_by("pk")
        if search:
            qs = qs.filter(email__icontains=search.strip())
        return qs


# -- mutations ---------------------------------------------------------------------
class AccountRegisterInput(graphene.InputObjectType):
    email = graphene.String(required=True)
    password = graphene.String(required=True)
    first_name = graphene.String()
    last_name = graphene.String()
    language = Language()


class AccountRegister(BaseMutation):
    """Create a member account. A confirmation e-mail is sent when confirmation is required."""

    permission = permissions.allow_any
    user = graphene.Field(UserType)
    requires_confirmation = graphene.Boolean()

    class Arguments:
        input = AccountRegisterInput(required=True)

    @classmethod
    def perform(cls, info, input):
        user = services.register(
            input.email,
            input.password,
            first_name=input.first_name or "",
            last_name=input.last_name or "",
            language=(input.language.value if hasattr(input.language, "value") else input.language) or "zh-hans",
        )
        return cls(user=user, requires_confirmation=not user.email_confirmed)


class AccountConfirm(BaseMutation):
    """Confirm an e-mail address with the token from the confirmation e-mail."""

    permission = permissions.allow_any
    user = graphene.Field(UserType)

    class Arguments:
        token = graphene.String(required=True)

    @classmethod
    def perform(cls, info, token):
        return cls(user=services.confirm_email(token))


class AccountResendConfirmation(BaseMutation):
    permission = permissions.allow_any

    class Arguments:
        email = graphene.String(required=True)

    @classmethod
    def perform(cls, info, email):
        services.resend_confirmation(email)
        return cls()


class TokenCreate(BaseMutation):
    """Sign in: returns a short-lived access token and a refresh token."""

    permission = permissions.allow_any
    access_token = graphene.String()
    refresh_token = graphene.String()
    user = graphene.Field(UserType)

    class Arguments:
        email = graphene.String(required=True)
        password = graphene.String(required=True)

    @classmethod
    def perform(cls, info, email, password):
        request = info.context
        user, access, refresh = services.login(
            email, password, ip=client_ip(request), user_agent=request.META.get("HTTP_USER_AGENT", "")
        )
        return cls(user=user, access_token=access, refresh_token=refresh)


class TokenRefresh(BaseMutation):
    """Exchange a refresh token for a new access token and a new refresh token (the old
    one stops working; presenting it again signs the session out)."""

    permission = permissions.allow_any
    access_token = graphene.String()
    refresh_token = graphene.String()
    user = graphene.Field(UserType)

    class Arguments:
        refresh_token = graphene.String(required=True)

    @classmethod
    def perform(cls, info, refresh_token):
        user, access, refresh = services.refresh(refresh_token)
        return cls(user=user, access_token=access, refresh_token=refresh)


class Logout(BaseMutation):
    """Revoke a session: the one named by `refreshToken`, or the caller's own."""

    permission = permissions.allow_any
    ok = graphene.Boolean()

    class Arguments:
        refresh_token = graphene.String()

    @classmethod
    def perform(cls, info, refresh_token=None):
        user = permissions.current_user(info) if not refresh_token else _user_or_none(info)
        services.logout(user=user, refresh_token=refresh_token)
        return cls(ok=True)


def _user_or_none(info):
    try:
        user = info.context.user
        return user if user.is_authenticated else None
    except Exception:
        return None


class PasswordChange(BaseMutation):
    """Change the password; every other session of the account is signed out."""

    permission = permissions.authenticated
    user = graphene.Field(UserType)

    class Arguments:
        old_password = graphene.String(required=True)
        new_password = graphene.String(required=True)

    @classmethod
    def perform(cls, info, old_password, new_password):
        user = services.change_password(permissions.current_user(info), old_password, new_password)
        return cls(user=user)


class PasswordResetRequest(BaseMutation):
    """E-mail a password-reset link. Answers the same whether or not the account exists."""

    permission = permissions.allow_any

    class Arguments:
        email = graphene.String(required=True)

    @classmethod
    def perform(cls, info, email):
        services.request_password_reset(email)
        return cls()


class PasswordReset(BaseMutation):
    """Set a new password with the token from the reset e-mail; signs out all sessions."""

    permission = permissions.allow_any
    user = graphene.Field(UserType)

    class Arguments:
        email = graphene.String(required=True)
        token = graphene.String(required=True)
        password = graphene.String(required=True)

    @classmethod
    def perform(cls, info, email, token, password):
        return cls(user=services.reset_password(email, token, password))


class AccountUpdateInput(graphene.InputObjectType):
    first_name = graphene.String()
    last_name = graphene.String()
    language = Language()


class AccountUpdate(BaseMutation):
    permission = permissions.authenticated
    user = graphene.Field(UserType)

    class Arguments:
        input = AccountUpdateInput(required=True)

    @classmethod
    def perform(cls, info, input):
        data = dict(input)
        if data.get("language") is not None and hasattr(data["language"], "value"):
            data["language"] = data["language"].value
        return cls(user=services.update_profile(permissions.current_user(info), **data))


class AddressInput(graphene.InputObjectType):
    full_name = graphene.String()
    phone = graphene.String()
    country = graphene.String(description="ISO 3166-1 alpha-2; default CN.")
    province = graphene.String()
    city = graphene.String()
    district = graphene.String()
    street = graphene.String()
    postal_code = graphene.String()


class AddressCreate(BaseMutation):
    permission = permissions.authenticated
    address = graphene.Field(AddressType)

    class Arguments:
        input = AddressInput(required=True)
        set_default = graphene.Boolean(default_value=False)

    @classmethod
    def perform(cls, info, input, set_default=False):
        address = services.create_address(permissions.current_user(info), dict(input), make_default=set_default)
        return cls(address=address)


def _address_owner(address):
    return address.user_id


class AddressUpdate(BaseMutation):
    permission = permissions.user_owned(_address_owner)
    lookup = ("id", AddressType)
    address = graphene.Field(AddressType)

    class Arguments:
        id = graphene.ID(required=True)
        input = AddressInput(required=True)

    @classmethod
    def perform(cls, info, instance, id, input):
        return cls(address=services.update_address(permissions.current_user(info), instance.pk, dict(input)))


class AddressDelete(BaseMutation):
    permission = permissions.user_owned(_address_owner)
    lookup = ("id", AddressType)
    ok = graphene.Boolean()

    class Arguments:
        id = graphene.ID(required=True)

    @classmethod
    def perform(cls, info, instance, id):
        services.delete_address(permissions.current_user(info), instance.pk)
        return cls(ok=True)


class AddressSetDefault(BaseMutation):
    permission = permissions.user_owned(_address_owner)
    lookup = ("id", AddressType)
    address = graphene.Field(AddressType)

    class Arguments:
        id = graphene.ID(required=True)

    @classmethod
    def perform(cls, info, instance, id):
        return cls(address=services.set_default_address(permissions.current_user(info), instance.pk))


class Mutation(graphene.ObjectType):
    account_register = AccountRegister.Field()
    account_confirm = AccountConfirm.Field()
    account_resend_confirmation = AccountResendConfirmation.Field()
    account_update = AccountUpdate.Field()
    token_create = TokenCreate.Field()
    token_refresh = TokenRefresh.Field()
    logout = Logout.Field()
    password_change = PasswordChange.Field()
    password_reset_request = PasswordResetRequest.Field()
    password_reset = PasswordReset.Field()
    address_create = AddressCreate.Field()
    address_update = AddressUpdate.Field()
    address_delete = AddressDelete.Field()
    address_set_default = AddressSetDefault.Field()
