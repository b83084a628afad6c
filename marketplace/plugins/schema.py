import json

import graphene
from graphene.types.generic import GenericScalar

from marketplace.api.mutations import BaseMutation
from marketplace.vendors.permissions import MANAGERS, vendor_role
from marketplace.core import permissions

from . import services
from .manager import configuration_rows, get_manager


def _masked(settings_model):
    """Settings as JSON, with secrets (pydantic SecretStr) masked."""
    if settings_model is None:
        return None
    return json.loads(settings_model.model_dump_json())


def _vendor_pk(info, vendor_id, roles=None):
    """Decode a vendor's global ID and check the caller may act for it."""
    if vendor_id is None:
        return None
    from marketplace.api.types import decode_id
    from marketplace.vendors.permissions import ANY_STAFF, require_vendor_role
    from marketplace.vendors.schema import VendorType

    pk = int(decode_id(vendor_id, VendorType, field="vendor_id"))
    require_vendor_role(info, pk, roles or ANY_STAFF)
    return pk


class Plugin(graphene.ObjectType):
    name = graphene.String(required=True)
    description = graphene.String(required=True)
    builtin = graphene.Boolean(required=True)
    vendor_configurable = graphene.Boolean(required=True)
    active = graphene.Boolean(required=True, vendor_id=graphene.ID())
    settings = GenericScalar(vendor_id=graphene.ID(), description="Effective settings (secrets masked).")
    settings_schema = GenericScalar(description="JSON Schema of the settings.")
    configured_at = graphene.DateTime()

    @staticmethod
    def resolve_name(root, info):
        return root.plugin_name

    @staticmethod
    def resolve_description(root, info):
        return root.plugin_description or ""

    @staticmethod
    def resolve_builtin(root, info):
        return root.is_builtin

    @staticmethod
    def resolve_active(root, info, vendor_id=None):
        return get_manager().is_active(root.plugin_name, _vendor_pk(info, vendor_id))

    @staticmethod
    def resolve_settings(root, info, vendor_id=None):
        return _masked(get_manager().get_settings(root.plugin_name, _vendor_pk(info, vendor_id)))

    @staticmethod
    def resolve_settings_schema(root, info):
        return root.settings_schema.model_json_schema() if root.settings_schema else None

    @staticmethod
    def resolve_configured_at(root, info):
        row = configuration_rows().get((root.plugin_name, None))
        return row.updated_at if row else None


class Query(graphene.ObjectType):
    plugins = graphene.List(graphene.NonNull(Plugin), required=True, description="Installed plugins (platform staff).")

    @staticmethod
    @permissions.login_required
    def resolve_plugins(root, info):
        """Platform staff see every plugin; vendor staff see the vendor-configurable ones."""
        user = permissions.current_user(info)
        plugins = sorted(get_manager().plugins.values(), key=lambda p: p.plugin_name)
        if user.is_staff:
            return plugins
        from marketplace.vendors.permissions import vendor_roles

        if not vendor_roles(user):
            from marketplace.core.errors import PermissionDenied

            raise PermissionDenied("Only platform or vendor staff may list plugins.")
        return [p for p in plugins if p.vendor_configurable]


class PluginUpdateInput(graphene.InputObjectType):
    active = graphene.Boolean()
    inherit = graphene.Boolean(description="Forget this scope's switch: inherit the platform's (or the default).")
    settings = GenericScalar(description="Settings to change; validated against the plugin's schema.")


class PluginUpdate(BaseMutation):
    """Switch a plugin on or off, or change its settings, for the platform (platform
    staff) or for one vendor (its owner or managers; vendor-configurable plugins only).
    Takes effect on the next request; no deploy needed."""

    permission = vendor_role(MANAGERS, vendor_from="vendor_id")  # no vendorId: platform staff only
    plugin = graphene.Field(Plugin)

    class Arguments:
        name = graphene.String(required=True)
        vendor_id = graphene.ID()
        input = PluginUpdateInput(required=True)

    @classmethod
    def perform(cls, info, name, input, vendor_id=None):
        vendor_pk = _vendor_pk(info, vendor_id, MANAGERS)
        services.update_plugin(name, vendor_id=vendor_pk, active=input.active, settings=input.settings,
                               inherit=bool(input.inherit))
        return cls(plugin=get_manager().plugins[name])


class Mutation(graphene.ObjectType):
    plugin_update = PluginUpdate.Field()
