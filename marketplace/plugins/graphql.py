"""GraphQL building blocks for plugins (part of the public plugin API).

- `BaseMutation` with declared policies: `permissions.allow_any`, `permissions.authenticated`,
  `permissions.platform_staff`, `permissions.user_owned(owner_from)`, `vendor_role(roles,
  vendor_from=...)` and `cart_owner()`; `lookup = ("id", NodeType)` loads the object;
- `DataLoader`, `group_by`, `then`; `ConnectionField`, `CountableConnection`;
  `NestedConnectionField(NodeType, parent_field="account_id")`: a connection under each
  object of a list (e.g. every account's history), read for all parents in one query;
- `decode_id(global_id, NodeType, field)`, `enum_value(value)`;
- `Money`, `money(amount, currency)`, `Price` (an explained price);
- the core types to return or reference: `ProductNode`, `ProductVariantNode`, `VendorType`,
  `UserType`, `OrderType`, `VendorOrderType`, `PaymentType`, `CheckoutType`;
- `EXTENSIBLE_TYPES`: the names of core types `graphql_type_fields` may extend;
- `NodeType`: a `DjangoObjectType` base for your own types that makes them Relay nodes
  (global IDs that `node(id:)` fetches) in one line.
"""
from marketplace.api.dataloaders import DataLoader, group_by, then
from marketplace.api.errors import Error, ErrorCode
from marketplace.api.mutations import BaseMutation
from marketplace.api.pagination import ConnectionField, CountableConnection, NestedConnectionField
from marketplace.api.types import decode_id, enum_value
from marketplace.core import permissions
from marketplace.core.errors import NotFound, PermissionDenied, ValidationError
from marketplace.pricing.schema import Money, Price, money
from marketplace.vendors.permissions import vendor_role

EXTENSIBLE_TYPES = ("User", "Vendor", "Product", "ProductVariant", "ProductFilterInput")

__all__ = [
    "BaseMutation", "ConnectionField", "CountableConnection", "NestedConnectionField", "DataLoader", "Error",
    "ErrorCode", "Money", "Price",
    "NotFound", "PermissionDenied", "ValidationError", "decode_id", "enum_value", "group_by", "money", "permissions",
    "then", "vendor_role", "cart_owner", "ProductNode", "ProductVariantNode", "VendorType", "UserType", "OrderType",
    "VendorOrderType", "PaymentType", "CheckoutType", "EXTENSIBLE_TYPES", "NodeType",
]

_LAZY = {
    "ProductNode": ("marketplace.catalog.schema", "ProductNode"),
    "ProductVariantNode": ("marketplace.catalog.schema", "ProductVariantNode"),
    "VendorType": ("marketplace.vendors.schema", "VendorType"),
    "UserType": ("marketplace.accounts.schema", "UserType"),
    "OrderType": ("marketplace.orders.schema", "OrderType"),
    "VendorOrderType": ("marketplace.orders.schema", "VendorOrderType"),
    "PaymentType": ("marketplace.payments.schema", "PaymentType"),
    "CheckoutType": ("marketplace.checkout.schema", "CheckoutType"),
    "cart_owner": ("marketplace.checkout.permissions", "cart_owner"),
}


def _node_type():
    from graphene import relay
    from graphene_django import DjangoObjectType

    class NodeType(DjangoObjectType):
        """A `DjangoObjectType` that is a Relay node: its `id` is a global ID
        ("<TypeName>:<pk>", base64) that `node(id:)` fetches and `decode_id` reads. Subclass
        it exactly like `DjangoObjectType` (`class Meta: model = ...; fields = (...)`);
        override `get_node(cls, info, id)` to say who may fetch one (default: anybody)."""

        class Meta:
            abstract = True

        @classmethod
        def __init_subclass_with_meta__(cls, interfaces=(), **options):
            interfaces = tuple(interfaces)
            if relay.Node not in interfaces:
                interfaces += (relay.Node,)
            super().__init_subclass_with_meta__(interfaces=interfaces, **options)

    return NodeType


_LAZY_BUILT = {}


def __getattr__(name):
    """The core's GraphQL types and NodeType, built on first use (they import graphene-django
    and the apps)."""
    if name == "NodeType":
        if "NodeType" not in _LAZY_BUILT:
            _LAZY_BUILT["NodeType"] = _node_type()
        return _LAZY_BUILT["NodeType"]
    if name in _LAZY:
        import importlib

        module, attribute = _LAZY[name]
        return getattr(importlib.import_module(module), attribute)
    raise AttributeError(name)
