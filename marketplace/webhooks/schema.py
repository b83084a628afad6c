import graphene
from graphene import relay
from graphene_django import DjangoObjectType

from marketplace.api.mutations import BaseMutation
from marketplace.api.pagination import ConnectionField, CountableConnection, NestedConnectionField
from marketplace.api.types import decode_id
from marketplace.core import permissions
from marketplace.core.errors import NotFound

from . import services
from .models import WebhookDelivery, WebhookSubscription


class WebhookDeliveryType(DjangoObjectType):
    class Meta:
        model = WebhookDelivery
        name = "WebhookDelivery"
        interfaces = (relay.Node,)
        fields = ("event_id", "event_name", "status", "attempts", "last_status_code", "last_error",
                  "created_at", "delivered_at", "next_attempt_at")
        connection_class = CountableConnection
        convert_choices_to_enum = False

    @classmethod
    def get_node(cls, info, id):
        permissions.require_platform_staff(info)
        return WebhookDelivery.objects.filter(pk=id).first()


class WebhookType(DjangoObjectType):
    events = graphene.List(graphene.NonNull(graphene.String), required=True)
    deliveries = NestedConnectionField(WebhookDeliveryType, parent_field="subscription_id")

    class Meta:
        model = WebhookSubscription
        name = "Webhook"
        interfaces = (relay.Node,)
        fields = ("name", "target_url", "secret", "is_active", "created_at")
        connection_class = CountableConnection

    @classmethod
    def get_node(cls, info, id):
        permissions.require_platform_staff(info)
        return WebhookSubscription.objects.filter(pk=id).first()

    @staticmethod
    def resolve_deliveries(root, info, **kwargs):
        return WebhookDelivery.objects.order_by("-pk")  # every webhook's; the field narrows to this one


class EventTypeInfo(graphene.ObjectType):
    name = graphene.String(required=True)
    description = graphene.String(required=True)


class Query(graphene.ObjectType):
    webhooks = ConnectionField(WebhookType, description="Webhook subscriptions (platform staff).")
    event_types = graphene.List(graphene.NonNull(EventTypeInfo), required=True,
                                description="Domain events that webhooks and plugins can receive.")

    @staticmethod
    @permissions.staff_required
    def resolve_webhooks(root, info, **kwargs):
        return WebhookSubscription.objects.order_by("pk")

    @staticmethod
    def resolve_event_types(root, info):
        from marketplace.core.events import event_types

        return [EventTypeInfo(name=k, description=v) for k, v in sorted(event_types().items())]


class WebhookCreateInput(graphene.InputObjectType):
    name = graphene.String(required=True)
    target_url = graphene.String(required=True)
    events = graphene.List(graphene.NonNull(graphene.String), required=True)
    secret = graphene.String(description="HMAC key; generated when omitted.")


class WebhookCreate(BaseMutation):
    permission = permissions.platform_staff
    webhook = graphene.Field(WebhookType)

    class Arguments:
        input = WebhookCreateInput(required=True)

    @classmethod
    def perform(cls, info, input):
        return cls(webhook=services.create_subscription(input.name, input.target_url, input.events, input.secret))


class WebhookUpdateInput(graphene.InputObjectType):
    name = graphene.String()
    target_url = graphene.String()
    events = graphene.List(graphene.NonNull(graphene.String))
    is_active = graphene.Boolean()


def _subscription(id):
    pk = decode_id(id, WebhookType)
    subscription = WebhookSubscription.objects.filter(pk=pk).first()
    if subscription is None:
        raise NotFound("Webhook not found.", field="id")
    return subscription


class WebhookUpdate(BaseMutation):
    permission = permissions.platform_staff
    webhook = graphene.Field(WebhookType)

    class Arguments:
        id = graphene.ID(required=True)
        input = WebhookUpdateInput(required=True)

    @classmethod
    def perform(cls, info, id, input):
        return cls(webhook=services.update_subscription(_subscription(id), **dict(input)))


class WebhookDelete(BaseMutation):
    permission = permissions.platform_staff
    ok = graphene.Boolean()

    class Arguments:
        id = graphene.ID(required=True)

    @classmethod
    def perform(cls, info, id):
        _subscription(id).delete()
        return cls(ok=True)


class Mutation(graphene.ObjectType):
    webhook_create = WebhookCreate.Field()
    webhook_update = WebhookUpdate.Field()
    webhook_delete = WebhookDelete.Field()
