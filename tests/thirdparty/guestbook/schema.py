import graphene
from graphene_django import DjangoObjectType

from marketplace.plugins import emit, get_settings
from marketplace.plugins.graphql import BaseMutation, ValidationError, permissions

from .events import GuestbookSigned
from .models import Entry, StickerClaim


class GuestbookEntry(DjangoObjectType):
    class Meta:
        model = Entry
        fields = ("id", "author_email", "message", "created_at")


class Query(graphene.ObjectType):
    guestbook_entries = graphene.List(graphene.NonNull(GuestbookEntry), required=True)

    @staticmethod
    def resolve_guestbook_entries(root, info):
        return Entry.objects.order_by("pk")


class GuestbookSign(BaseMutation):
    permission = permissions.authenticated
    entry = graphene.Field(GuestbookEntry)

    class Arguments:
        message = graphene.String(required=True)

    @classmethod
    def perform(cls, info, message):
        limit = get_settings("guestbook").max_length
        if not message.strip():
            raise ValidationError("Say something.", code="REQUIRED", field="message")
        if len(message) > limit:
            raise ValidationError(f"At most {limit} characters.", field="message")
        entry = Entry.objects.create(author_email=info.context.user.email, message=message.strip())
        emit(GuestbookSigned(entry_id=entry.pk))
        return cls(entry=entry)


class StickerClaimNode(DjangoObjectType):
    """Reached only through `node(id:)` (registered with the graphql_types hook)."""

    class Meta:
        model = StickerClaim
        name = "GuestbookStickerClaim"
        interfaces = (graphene.relay.Node,)
        fields = ("quantity", "message", "paid_at", "released_at")

    @classmethod
    def get_node(cls, info, id):
        claim = StickerClaim.objects.filter(pk=id).first()
        user = info.context.user
        if claim is None or not user.is_authenticated:
            return None
        from marketplace.plugins.orders import order_info

        order = order_info(claim.order_id)
        return claim if order and (order.user_id == user.pk or user.is_staff) else None


class GuestbookDonate(BaseMutation):
    """Give to the guestbook: a standalone charge (no order) at a gateway."""

    permission = permissions.authenticated
    text_not_stored = {"gateway": "a lookup"}
    client_secret = graphene.String()
    donation_id = graphene.Int()

    class Arguments:
        amount = graphene.Decimal(required=True)
        gateway = graphene.String(required=True)

    @classmethod
    def perform(cls, info, amount, gateway):
        from .commerce import donate

        donation, payment = donate(info.context.user, amount, gateway)
        return cls(client_secret=payment.client_secret, donation_id=donation.pk)


class Mutation(graphene.ObjectType):
    guestbook_sign = GuestbookSign.Field()
    guestbook_donate = GuestbookDonate.Field()
