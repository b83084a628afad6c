import graphene
from graphene_django import DjangoObjectType

from marketplace.plugins import emit, get_settings
from marketplace.plugins.graphql import BaseMutation, ValidationError, permissions

from .events import GuestbookSigned
from .models import Entry


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


class Mutation(graphene.ObjectType):
    guestbook_sign = GuestbookSign.Field()
