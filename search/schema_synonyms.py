"""GraphQL for staff-managed search synonyms (part of search.schema)."""
import graphene
from graphene import relay
from graphene_django import DjangoObjectType

from marketplace.api.mutations import BaseMutation
from marketplace.api.types import decode_id
from marketplace.core import permissions
from marketplace.core.errors import NotFound

from . import synonyms
from .models import SynonymSet


# -- synonyms (platform staff) --------------------------------------------------------------
class SynonymSetNode(DjangoObjectType):
    terms = graphene.List(graphene.NonNull(graphene.String), required=True)

    class Meta:
        model = SynonymSet
        name = "SearchSynonymSet"
        interfaces = (relay.Node,)
        fields = ("created_at", "updated_at")

    @classmethod
    def get_node(cls, info, id):
        if not permissions.is_platform_staff(permissions.current_user(info)):
            return None
        return SynonymSet.objects.filter(pk=id).first()

    @staticmethod
    def resolve_terms(root, info):
        return list(root.terms)


class SearchSynonymSetSave(BaseMutation):
    """Create a set of equivalent search terms (e.g. ["刹车片", "制动片", "brake pad"]), or
    replace the terms of an existing one (`id`). Takes effect on the next search."""

    permission = permissions.platform_staff
    synonym_set = graphene.Field(SynonymSetNode)

    class Arguments:
        terms = graphene.List(graphene.NonNull(graphene.String), required=True)
        id = graphene.ID(description="An existing set to replace.")

    @classmethod
    def perform(cls, info, terms, id=None):
        existing = None
        if id:
            existing = SynonymSet.objects.filter(pk=decode_id(id, SynonymSetNode)).first()
            if existing is None:
                raise NotFound("Synonym set not found.", field="id")
        user = permissions.current_user(info)
        return cls(synonym_set=synonyms.save_synonym_set(terms, existing, user=user))


class SearchSynonymSetDelete(BaseMutation):
    permission = permissions.platform_staff
    ok = graphene.Boolean()

    class Arguments:
        id = graphene.ID(required=True)

    @classmethod
    def perform(cls, info, id):
        existing = SynonymSet.objects.filter(pk=decode_id(id, SynonymSetNode)).first()
        if existing is None:
            raise NotFound("Synonym set not found.", field="id")
        synonyms.delete_synonym_set(existing)
        return cls(ok=True)
