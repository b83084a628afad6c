"""GraphQL of the parts storefront: thin; reads here, writes through services."""
import graphene
from graphene import relay
from graphene_django import DjangoObjectType

from marketplace.plugins import is_active
from marketplace.plugins.catalog import variant_info, visible_products
from marketplace.plugins.graphql import (
    BaseMutation, NotFound, ProductNode, ProductVariantNode, ValidationError, VendorType, decode_id, enum_value,
    permissions, vendor_role,
)
from marketplace.plugins.vendors import ANY_STAFF, MANAGERS, has_vendor_role, vendor_info

from . import services
from .dataloaders import PartNumbersByVariantIdLoader, VehiclesByVariantIdLoader
from .models import (
    Body, Fuel, GarageVehicle, PartNumber, PartNumberKind, StorefrontPage, Vehicle, VehicleMake, VehicleModel,
    normalize_part_number,
)

PLUGIN = services.PLUGIN

FuelEnum = graphene.Enum("VehicleFuel", [(k.name, k.value) for k in Fuel])
BodyEnum = graphene.Enum("VehicleBody", [(k.name, k.value) for k in Body])
PartNumberKindEnum = graphene.Enum("PartNumberKind", [(k.name, k.value) for k in PartNumberKind])


# -- types ----------------------------------------------------------------------------------
class VehicleMakeNode(DjangoObjectType):
    class Meta:
        model = VehicleMake
        name = "VehicleMake"
        interfaces = (relay.Node,)
        fields = ("name_zh", "name_en", "slug")


class VehicleModelNode(DjangoObjectType):
    make = graphene.Field(VehicleMakeNode, required=True)

    class Meta:
        model = VehicleModel
        name = "VehicleModel"
        interfaces = (relay.Node,)
        fields = ("name_zh", "name_en", "slug")


class VehicleNode(DjangoObjectType):
    """A model over a range of model years with one engine: what parts fit."""

    model = graphene.Field(VehicleModelNode, required=True)
    fuel = graphene.Field(FuelEnum)
    body = graphene.Field(BodyEnum)

    class Meta:
        model = Vehicle
        name = "Vehicle"
        interfaces = (relay.Node,)
        fields = ("year_from", "year_to", "engine")

    @classmethod
    def get_queryset(cls, queryset, info):
        return queryset.select_related("model__make")

    @staticmethod
    def resolve_fuel(root, info):
        return root.fuel or None

    @staticmethod
    def resolve_body(root, info):
        return root.body or None


class PartNumberType(graphene.ObjectType):
    class Meta:
        name = "PartNumber"

    number = graphene.String(required=True, description="As the vendor entered it.")
    normalized = graphene.String(required=True, description="Uppercase, without spaces, hyphens, dots, slashes.")
    kind = graphene.Field(PartNumberKindEnum, required=True)


class PartNumberMatch(graphene.ObjectType):
    product = graphene.Field(ProductNode, required=True)
    variant = graphene.Field(ProductVariantNode, required=True)
    part_number = graphene.Field(PartNumberType, required=True)

    @staticmethod
    def resolve_product(root, info):
        return root.variant.product

    @staticmethod
    def resolve_part_number(root, info):
        return root


class GarageVehicleNode(DjangoObjectType):
    vehicle = graphene.Field(VehicleNode, required=True)

    class Meta:
        model = GarageVehicle
        name = "GarageVehicle"
        interfaces = (relay.Node,)
        fields = ("year", "nickname", "is_default", "created_at")

    @classmethod
    def get_node(cls, info, id):
        user = permissions.current_user(info)
        if not permissions.is_authenticated(user):
            return None
        return _garage(user).filter(pk=id).first()


class StorefrontPageType(DjangoObjectType):
    vendor = graphene.Field(VendorType, required=True)
    featured_products = graphene.List(graphene.NonNull(ProductNode), required=True,
                                      description="In the vendor's order; only products on sale now.")

    class Meta:
        model = StorefrontPage
        name = "StorefrontPage"
        fields = ("banner_url", "headline_zh", "headline_en", "updated_at")

    @staticmethod
    def resolve_featured_products(root, info):
        ids = [f.product_id for f in root.featured.all()]
        products = visible_products().in_bulk(ids)
        return [products[pk] for pk in ids if pk in products]


def _garage(user):
    return GarageVehicle.objects.filter(user=user).select_related("vehicle__model__make").order_by("-is_default", "pk")


# -- fields added to core types -----------------------------------------------------------
def resolve_fitments(root, info):
    return VehiclesByVariantIdLoader.for_request(info).load(root.pk)


def resolve_part_numbers(root, info):
    return PartNumbersByVariantIdLoader.for_request(info).load(root.pk)


def type_fields():
    return {
        "ProductVariant": {
            # Nullable on purpose: while the plugin is off these answer null with a
            # PLUGIN_DISABLED error instead of nulling the whole variant (and product).
            "fitments": graphene.Field(graphene.List(graphene.NonNull(VehicleNode)), resolver=resolve_fitments,
                                       description="Vehicles this variant fits (null while the plugin is off)."),
            "part_numbers": graphene.Field(graphene.List(graphene.NonNull(PartNumberType)),
                                           resolver=resolve_part_numbers,
                                           description="OE and manufacturer numbers (null while the plugin is off)."),
        },
    }


# -- queries --------------------------------------------------------------------------------
class Query(graphene.ObjectType):
    vehicle_makes = graphene.List(graphene.NonNull(VehicleMakeNode), required=True)
    vehicle_models = graphene.List(graphene.NonNull(VehicleModelNode), required=True,
                                   make=graphene.ID(required=True, description="A VehicleMake ID."))
    vehicles = graphene.List(graphene.NonNull(VehicleNode), required=True,
                             model=graphene.ID(required=True, description="A VehicleModel ID."),
                             year=graphene.Int(description="Only vehicles built in this model year."))
    part_number_lookup = graphene.List(
        graphene.NonNull(PartNumberMatch), required=True, number=graphene.String(required=True),
        description="Variants on sale with this OE or manufacturer number (case, spaces, hyphens ignored).")
    my_garage = graphene.List(graphene.NonNull(GarageVehicleNode), required=True,
                              description="The signed-in member's vehicles, the default first.")
    storefront_page = graphene.Field(StorefrontPageType, vendor_slug=graphene.String(required=True))

    @staticmethod
    def resolve_vehicle_makes(root, info):
        return VehicleMake.objects.all()

    @staticmethod
    def resolve_vehicle_models(root, info, make):
        make_id = decode_id(make, VehicleMakeNode, field="make")
        return VehicleModel.objects.filter(make_id=make_id).select_related("make")

    @staticmethod
    def resolve_vehicles(root, info, model, year=None):
        vehicles = Vehicle.objects.filter(model_id=decode_id(model, VehicleModelNode, field="model"))
        if year is not None:
            vehicles = vehicles.filter(year_from__lte=year, year_to__gte=year)
        return vehicles.select_related("model__make")

    @staticmethod
    def resolve_part_number_lookup(root, info, number):
        normalized = normalize_part_number(number)
        if not normalized:
            raise ValidationError("Give a part number.", code="REQUIRED", field="number")
        return (PartNumber.objects.filter(normalized=normalized, variant__is_active=True,
                                          variant__product__in=visible_products())
                .select_related("variant__product").order_by("variant__product_id", "variant__position", "pk")[:100])

    @staticmethod
    @permissions.login_required
    def resolve_my_garage(root, info):
        return _garage(info.context.user)

    @staticmethod
    def resolve_storefront_page(root, info, vendor_slug):
        page = StorefrontPage.objects.select_related("vendor").filter(vendor__slug=vendor_slug).first()
        if page is None or not is_active(PLUGIN, page.vendor_id):
            return None
        listed = page.vendor.status == "approved" and not page.vendor.storefront_hidden
        if listed or has_vendor_role(permissions.current_user(info), page.vendor_id):
            return page
        return None


# -- mutations ------------------------------------------------------------------------------
class GarageVehicleAdd(BaseMutation):
    permission = permissions.self_service
    garage_vehicle = graphene.Field(GarageVehicleNode)
    garage = graphene.List(graphene.NonNull(GarageVehicleNode), description="The whole garage after the change.")

    class Arguments:
        vehicle_id = graphene.ID(required=True)
        year = graphene.Int(required=True, description="The car's model year, within the vehicle's range.")
        nickname = graphene.String()
        set_default = graphene.Boolean(default_value=False, description="The first vehicle is always the default.")

    @classmethod
    def perform(cls, info, vehicle_id, year, nickname=None, set_default=False):
        user = info.context.user
        item = services.add_garage_vehicle(user, decode_id(vehicle_id, VehicleNode, field="vehicle_id"), year,
                                           nickname, set_default)
        return cls(garage_vehicle=item, garage=_garage(user))


class GarageVehicleRemove(BaseMutation):
    permission = permissions.user_owned(lambda item: item.user_id)
    lookup = ("id", GarageVehicleNode)
    garage = graphene.List(graphene.NonNull(GarageVehicleNode), description="The whole garage after the change.")

    class Arguments:
        id = graphene.ID(required=True)

    @classmethod
    def perform(cls, info, instance, id):
        user = info.context.user
        services.remove_garage_vehicle(user, instance.pk)
        return cls(garage=_garage(user))


class GarageVehicleSetDefault(BaseMutation):
    permission = permissions.user_owned(lambda item: item.user_id)
    lookup = ("id", GarageVehicleNode)
    garage_vehicle = graphene.Field(GarageVehicleNode)
    garage = graphene.List(graphene.NonNull(GarageVehicleNode), description="The whole garage after the change.")

    class Arguments:
        id = graphene.ID(required=True)

    @classmethod
    def perform(cls, info, instance, id):
        user = info.context.user
        item = services.set_default_garage_vehicle(user, instance.pk)
        return cls(garage_vehicle=item, garage=_garage(user))


def _variant_vendor(variant):
    return variant.vendor_id


class FitmentSet(BaseMutation):
    """Replace the vehicles a variant fits (staff of the variant's vendor)."""

    permission = vendor_role(ANY_STAFF, vendor_from=_variant_vendor)
    lookup = ("variant_id", ProductVariantNode)
    variant = graphene.Field(ProductVariantNode)

    class Arguments:
        variant_id = graphene.ID(required=True)
        vehicle_ids = graphene.List(graphene.NonNull(graphene.ID), required=True)

    @classmethod
    def perform(cls, info, instance, variant_id, vehicle_ids):
        services.set_fitments(variant_info(instance.pk),
                              [decode_id(v, VehicleNode, field="vehicle_ids") for v in vehicle_ids])
        return cls(variant=instance)


class PartNumberInput(graphene.InputObjectType):
    number = graphene.String(required=True)
    kind = PartNumberKindEnum(default_value=PartNumberKind.OE.value)


class PartNumbersSet(BaseMutation):
    """Replace a variant's OE and manufacturer numbers (staff of the variant's vendor)."""

    permission = vendor_role(ANY_STAFF, vendor_from=_variant_vendor)
    lookup = ("variant_id", ProductVariantNode)
    variant = graphene.Field(ProductVariantNode)

    class Arguments:
        variant_id = graphene.ID(required=True)
        numbers = graphene.List(graphene.NonNull(PartNumberInput), required=True)

    @classmethod
    def perform(cls, info, instance, variant_id, numbers):
        services.set_part_numbers(variant_info(instance.pk),
                                  [{"number": n.number, "kind": enum_value(n.kind)} for n in numbers])
        return cls(variant=instance)


class StorefrontPageInput(graphene.InputObjectType):
    banner_url = graphene.String()
    headline_zh = graphene.String()
    headline_en = graphene.String()
    featured_products = graphene.List(graphene.NonNull(graphene.ID), description="Product IDs in order; replaces.")


class StorefrontPageUpdate(BaseMutation):
    """The vendor's owner or a manager edits its storefront page."""

    permission = vendor_role(MANAGERS, vendor_from="vendor_id")
    storefront_page = graphene.Field(StorefrontPageType)

    class Arguments:
        vendor_id = graphene.ID(required=True)
        input = StorefrontPageInput(required=True)

    @classmethod
    def perform(cls, info, vendor_id, input):
        pk = int(decode_id(vendor_id, VendorType, field="vendor_id"))
        vendor = vendor_info(pk)
        if vendor is None:
            raise NotFound("Vendor not found.", field="vendor_id")
        if not is_active(PLUGIN, pk):
            raise ValidationError("Storefront pages are switched off for this vendor.", code="PLUGIN_DISABLED")
        data = {k: v for k, v in input.items() if k != "featured_products"}
        if input.get("featured_products") is not None:
            data["featured_product_ids"] = [decode_id(p, ProductNode, field="featured_products")
                                            for p in input["featured_products"]]
        return cls(storefront_page=services.update_storefront_page(pk, data))


class VehicleMakeInput(graphene.InputObjectType):
    name_zh = graphene.String(required=True)
    name_en = graphene.String()
    slug = graphene.String(required=True)


class VehicleMakeCreate(BaseMutation):
    permission = permissions.platform_staff
    make = graphene.Field(VehicleMakeNode)

    class Arguments:
        input = VehicleMakeInput(required=True)

    @classmethod
    def perform(cls, info, input):
        return cls(make=services.create_make(dict(input)))


class VehicleModelInput(graphene.InputObjectType):
    name_zh = graphene.String(required=True)
    name_en = graphene.String()
    slug = graphene.String(required=True)


class VehicleModelCreate(BaseMutation):
    permission = permissions.platform_staff
    model = graphene.Field(VehicleModelNode)

    class Arguments:
        make_id = graphene.ID(required=True)
        input = VehicleModelInput(required=True)

    @classmethod
    def perform(cls, info, make_id, input):
        make = VehicleMake.objects.filter(pk=decode_id(make_id, VehicleMakeNode, field="make_id")).first()
        if make is None:
            raise NotFound("Make not found.", field="make_id")
        return cls(model=services.create_model(make, dict(input)))


class VehicleInput(graphene.InputObjectType):
    year_from = graphene.Int(required=True)
    year_to = graphene.Int(required=True)
    engine = graphene.String(required=True, description='e.g. "1.5L EA211"')
    fuel = FuelEnum()
    body = BodyEnum()


class VehicleCreate(BaseMutation):
    permission = permissions.platform_staff
    vehicle = graphene.Field(VehicleNode)

    class Arguments:
        model_id = graphene.ID(required=True)
        input = VehicleInput(required=True)

    @classmethod
    def perform(cls, info, model_id, input):
        model = VehicleModel.objects.filter(pk=decode_id(model_id, VehicleModelNode, field="model_id")).first()
        if model is None:
            raise NotFound("Model not found.", field="model_id")
        data = {k: enum_value(v) for k, v in input.items()}
        return cls(vehicle=services.create_vehicle(model, data))


class Mutation(graphene.ObjectType):
    garage_vehicle_add = GarageVehicleAdd.Field()
    garage_vehicle_remove = GarageVehicleRemove.Field()
    garage_vehicle_set_default = GarageVehicleSetDefault.Field()
    fitment_set = FitmentSet.Field()
    part_numbers_set = PartNumbersSet.Field()
    storefront_page_update = StorefrontPageUpdate.Field()
    vehicle_make_create = VehicleMakeCreate.Field()
    vehicle_model_create = VehicleModelCreate.Field()
    vehicle_create = VehicleCreate.Field()
