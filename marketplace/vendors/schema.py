import graphene
from graphene import relay
from graphene.types.generic import GenericScalar
from graphene_django import DjangoObjectType
from marketplace.core import clock

from marketplace.api.mutations import BaseMutation
from marketplace.api.pagination import ConnectionField, CountableConnection
from marketplace.api.types import decode_id, enum_value
from marketplace.core import permissions
from marketplace.core.errors import NotFound

from . import services
from .dataloaders import StaffByVendorIdLoader, WarehousesByVendorIdLoader
from .models import StaffRole, Vendor, VendorKind, VendorStaff, VendorStatus, Warehouse
from .opening import is_open
from .permissions import ANY_STAFF, MANAGERS, has_vendor_role, require_vendor_role, vendor_role, vendor_roles

VendorKindEnum = graphene.Enum("VendorKind", [(k.name, k.value) for k in VendorKind])
VendorStatusEnum = graphene.Enum("VendorStatus", [(k.name, k.value) for k in VendorStatus])
StaffRoleEnum = graphene.Enum("StaffRole", [(k.name, k.value) for k in StaffRole])



class WarehouseType(DjangoObjectType):
    class Meta:
        model = Warehouse
        name = "Warehouse"
        interfaces = (relay.Node,)
        fields = ("name", "province", "city", "street", "is_active")

    @classmethod
    def get_node(cls, info, id):
        warehouse = Warehouse.objects.filter(pk=id).first()
        if warehouse and has_vendor_role(permissions.current_user(info), warehouse.vendor_id):
            return warehouse
        return None


class VendorStaffType(DjangoObjectType):
    role = graphene.Field(StaffRoleEnum, required=True)
    email = graphene.String(required=True)
    user_id = graphene.ID(required=True, description="The User's global ID (for vendorStaffRemove).")

    class Meta:
        model = VendorStaff
        name = "VendorStaffMember"
        fields = ("created_at",)

    @staticmethod
    def resolve_email(root, info):
        return root.user.email

    @staticmethod
    def resolve_role(root, info):
        return enum_value(root.role)

    @staticmethod
    def resolve_user_id(root, info):
        from graphql_relay import to_global_id

        return to_global_id("User", root.user_id)


class VendorType(DjangoObjectType):
    """A shop. Public fields are visible to everyone for approved vendors; staff-only
    fields answer null unless the caller works for the vendor (or is platform staff)."""

    kind = graphene.Field(VendorKindEnum, required=True)
    status = graphene.Field(VendorStatusEnum, required=True)
    opening_hours = GenericScalar(description='{"mon": [["09:00", "18:00"]], ...} in Asia/Shanghai time.')
    is_open_now = graphene.Boolean(required=True)
    latitude = graphene.Float()
    longitude = graphene.Float()
    warehouses = graphene.List(graphene.NonNull(WarehouseType), description="Staff only.")
    staff = graphene.List(graphene.NonNull(VendorStaffType), description="Staff only.")
    commission_rate = graphene.Decimal(description="Staff only.")
    status_reason = graphene.String(description="Staff only.")

    class Meta:
        model = Vendor
        name = "Vendor"
        interfaces = (relay.Node,)
        fields = ("name_zh", "name_en", "slug", "logo_url", "description_zh", "description_en", "phone", "province",
                  "city", "district", "street", "created_at")
        connection_class = CountableConnection

    @classmethod
    def get_node(cls, info, id):
        vendor = Vendor.objects.filter(pk=id).first()
        if vendor is None:
            return None
        if vendor.is_visible or has_vendor_role(permissions.current_user(info), vendor.pk):
            return vendor
        return None

    @staticmethod
    def resolve_kind(root, info):
        return enum_value(root.kind)

    @staticmethod
    def resolve_status(root, info):
        return enum_value(root.status)

    @staticmethod
    def resolve_is_open_now(root, info):
        return is_open(root.opening_hours, clock.now())

    @staticmethod
    def resolve_latitude(root, info):
        return float(root.latitude) if root.latitude is not None else None

    @staticmethod
    def resolve_longitude(root, info):
        return float(root.longitude) if root.longitude is not None else None

    @staticmethod
    def _staff_only(root, info):
        return has_vendor_role(permissions.current_user(info), root.pk)

    @classmethod
    def resolve_warehouses(cls, root, info):
        if not cls._staff_only(root, info):
            return None
        return WarehousesByVendorIdLoader.for_request(info).load(root.pk)

    @classmethod
    def resolve_staff(cls, root, info):
        if not cls._staff_only(root, info):
            return None
        return StaffByVendorIdLoader.for_request(info).load(root.pk)

    @classmethod
    def resolve_commission_rate(cls, root, info):
        return root.commission_rate if cls._staff_only(root, info) else None

    @classmethod
    def resolve_status_reason(cls, root, info):
        return root.status_reason if cls._staff_only(root, info) else None


class VendorFilterInput(graphene.InputObjectType):
    kind = VendorKindEnum()
    status = VendorStatusEnum(description="Platform staff only; others always see approved vendors.")
    city = graphene.String()


class Query(graphene.ObjectType):
    vendor = graphene.Field(VendorType, slug=graphene.String(required=True))
    vendors = ConnectionField(VendorType, filter=VendorFilterInput())
    my_vendors = graphene.List(graphene.NonNull(VendorType), required=True,
                               description="Vendors the signed-in user works for.")

    @staticmethod
    def resolve_vendor(root, info, slug):
        vendor = Vendor.objects.filter(slug=slug).first()
        if vendor and (vendor.is_visible or has_vendor_role(permissions.current_user(info), vendor.pk)):
            return vendor
        return None

    @staticmethod
    def resolve_vendors(root, info, filter=None, **kwargs):
        filter = filter or {}
        user = permissions.current_user(info)
        qs = Vendor.objects.order_by("pk")
        if filter.get("status") is not None and permissions.is_platform_staff(user):
            qs = qs.filter(status=enum_value(filter["status"]))
        else:
            qs = qs.filter(status=VendorStatus.APPROVED)
        if filter.get("kind") is not None:
            qs = qs.filter(kind=enum_value(filter["kind"]))
        if filter.get("city"):
            qs = qs.filter(city=filter["city"])
        return qs

    @staticmethod
    def resolve_my_vendors(root, info):
        user = permissions.current_user(info)
        return list(Vendor.objects.filter(pk__in=vendor_roles(user).keys()).order_by("pk"))


# -- mutations ---------------------------------------------------------------------------
class VendorProfileInput(graphene.InputObjectType):
    name_zh = graphene.String()
    name_en = graphene.String()
    logo_url = graphene.String()
    description_zh = graphene.String()
    description_en = graphene.String()
    phone = graphene.String()
    province = graphene.String()
    city = graphene.String()
    district = graphene.String()
    street = graphene.String()
    latitude = graphene.Decimal()
    longitude = graphene.Decimal()
    opening_hours = GenericScalar()


def vendor_pk(global_id):
    return decode_id(global_id, VendorType, field="vendor_id")


class VendorApply(BaseMutation):
    """A member applies to open a vendor; platform staff review the application."""

    permission = permissions.authenticated
    vendor = graphene.Field(VendorType)

    class Arguments:
        kind = VendorKindEnum(required=True)
        slug = graphene.String(required=True)
        input = VendorProfileInput(required=True)

    @classmethod
    def perform(cls, info, kind, slug, input):
        user = permissions.current_user(info)
        return cls(vendor=services.apply(user, enum_value(kind), slug, dict(input)))


def _staff_transition(name, service, needs_reason):
    arguments = {"id": graphene.ID(required=True)}
    if needs_reason:
        arguments["reason"] = graphene.String(required=True)

    def perform(cls, info, id, reason=None):
        pk = vendor_pk(id)
        vendor = service(pk, reason) if needs_reason else service(pk)
        return cls(vendor=vendor)

    return type(name, (BaseMutation,), {
        "permission": staticmethod(permissions.platform_staff),
        "vendor": graphene.Field(VendorType),
        "Arguments": type("Arguments", (), arguments),
        "perform": classmethod(perform),
        "__doc__": f"Platform staff: {name}.",
    })


VendorApprove = _staff_transition("VendorApprove", services.approve, False)
VendorReject = _staff_transition("VendorReject", services.reject, True)
VendorSuspend = _staff_transition("VendorSuspend", services.suspend, True)


class VendorClose(BaseMutation):
    """The owner (or platform staff) closes a vendor for good."""

    permission = vendor_role((StaffRole.OWNER,), vendor_from="id")
    vendor = graphene.Field(VendorType)

    class Arguments:
        id = graphene.ID(required=True)
        reason = graphene.String()

    @classmethod
    def perform(cls, info, id, reason=""):
        pk = vendor_pk(id)
        return cls(vendor=services.close(pk, reason or ""))


class VendorUpdate(BaseMutation):
    permission = vendor_role(MANAGERS, vendor_from="id")
    vendor = graphene.Field(VendorType)

    class Arguments:
        id = graphene.ID(required=True)
        input = VendorProfileInput(required=True)

    @classmethod
    def perform(cls, info, id, input):
        pk = vendor_pk(id)
        return cls(vendor=services.update_profile(pk, dict(input)))


class VendorSetCommission(BaseMutation):
    permission = permissions.platform_staff
    vendor = graphene.Field(VendorType)

    class Arguments:
        id = graphene.ID(required=True)
        rate = graphene.Decimal(description="e.g. 0.05; null restores the platform default.")

    @classmethod
    def perform(cls, info, id, rate=None):
        return cls(vendor=services.set_commission_rate(vendor_pk(id), rate))


class VendorStaffInvite(BaseMutation):
    """Owners invite managers and staff; managers invite staff. The invitee gets an e-mail."""

    permission = vendor_role(MANAGERS, vendor_from="vendor_id")
    email = graphene.String()
    role = graphene.Field(StaffRoleEnum)

    class Arguments:
        vendor_id = graphene.ID(required=True)
        email = graphene.String(required=True)
        role = StaffRoleEnum(required=True)

    @classmethod
    def perform(cls, info, vendor_id, email, role):
        pk = vendor_pk(vendor_id)
        user = permissions.current_user(info)
        invitation, _token = services.invite_staff(pk, user, email, enum_value(role))
        return cls(email=invitation.email, role=enum_value(invitation.role))


class VendorInvitationAccept(BaseMutation):
    permission = permissions.authenticated
    vendor = graphene.Field(VendorType)
    role = graphene.Field(StaffRoleEnum)

    class Arguments:
        token = graphene.String(required=True)

    @classmethod
    def perform(cls, info, token):
        staff = services.accept_invitation(permissions.current_user(info), token)
        return cls(vendor=staff.vendor, role=enum_value(staff.role))


class VendorStaffRemove(BaseMutation):
    permission = vendor_role(ANY_STAFF, vendor_from="vendor_id")
    ok = graphene.Boolean()

    class Arguments:
        vendor_id = graphene.ID(required=True)
        user_id = graphene.ID(required=True)

    @classmethod
    def perform(cls, info, vendor_id, user_id):
        from marketplace.accounts.schema import UserType

        pk = vendor_pk(vendor_id)
        user = permissions.current_user(info)
        services.remove_staff(pk, user, decode_id(user_id, UserType, field="user_id"))
        return cls(ok=True)


class WarehouseInput(graphene.InputObjectType):
    name = graphene.String()
    province = graphene.String()
    city = graphene.String()
    street = graphene.String()
    is_active = graphene.Boolean()


class WarehouseCreate(BaseMutation):
    permission = vendor_role(MANAGERS, vendor_from="vendor_id")
    warehouse = graphene.Field(WarehouseType)

    class Arguments:
        vendor_id = graphene.ID(required=True)
        input = WarehouseInput(required=True)

    @classmethod
    def perform(cls, info, vendor_id, input):
        pk = vendor_pk(vendor_id)
        return cls(warehouse=services.create_warehouse(pk, dict(input)))


class WarehouseUpdate(BaseMutation):
    permission = vendor_role(MANAGERS, vendor_from=lambda warehouse: warehouse.vendor_id)
    lookup = ("id", WarehouseType)
    warehouse = graphene.Field(WarehouseType)

    class Arguments:
        id = graphene.ID(required=True)
        input = WarehouseInput(required=True)

    @classmethod
    def perform(cls, info, instance, id, input):
        return cls(warehouse=services.update_warehouse(instance, dict(input)))


class Mutation(graphene.ObjectType):
    vendor_apply = VendorApply.Field()
    vendor_approve = VendorApprove.Field()
    vendor_reject = VendorReject.Field()
    vendor_suspend = VendorSuspend.Field()
    vendor_close = VendorClose.Field()
    vendor_update = VendorUpdate.Field()
    vendor_set_commission = VendorSetCommission.Field()
    vendor_staff_invite = VendorStaffInvite.Field()
    vendor_invitation_accept = VendorInvitationAccept.Field()
    vendor_staff_remove = VendorStaffRemove.Field()
    warehouse_create = WarehouseCreate.Field()
    warehouse_update = WarehouseUpdate.Field()
