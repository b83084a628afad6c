"""Query-time synonyms: services (platform staff manage them) and the cached lookup
every search uses. A change takes effect on the next query; nothing is reindexed."""
from django.core.cache import cache
from django.db import transaction

from marketplace.core.errors import ErrorCode, ValidationError

from .models import SynonymSet
from .text import fold

CACHE_KEY = "search:synonym-sets:v1"
CACHE_SECONDS = 300
MAX_TERMS = 20
MAX_TERM_LENGTH = 100


def clean_terms(terms):
    """Fold, strip and de-duplicate; at least two distinct terms."""
    if not isinstance(terms, (list, tuple)):
        raise ValidationError("Give a list of equivalent terms.", field="terms")
    cleaned = []
    for term in terms:
        value = fold(str(term or ""))
        if not value:
            continue
        if len(value) > MAX_TERM_LENGTH:
            raise ValidationError(f"Terms have at most {MAX_TERM_LENGTH} characters.", field="terms")
        if value not in cleaned:
            cleaned.append(value)
    if len(cleaned) < 2:
        raise ValidationError("A synonym set needs at least two different terms.", code=ErrorCode.REQUIRED,
                              field="terms")
    if len(cleaned) > MAX_TERMS:
        raise ValidationError(f"At most {MAX_TERMS} terms per set.", code=ErrorCode.LIMIT_EXCEEDED, field="terms")
    return cleaned


def forget():
    """Drop the cached sets (the next query reads them afresh)."""
    cache.delete(CACHE_KEY)


_forget = forget


@transaction.atomic
def save_synonym_set(terms, synonym_set=None, user=None):
    """Create a set, or replace the terms of `synonym_set`. A term may belong to one
    set only (equivalence must be unambiguous): merge sets instead."""
    cleaned = clean_terms(terms)
    taken = {}
    for other in SynonymSet.objects.select_for_update().exclude(pk=getattr(synonym_set, "pk", None)):
        for term in other.terms:
            taken[term] = other
    clashes = [term for term in cleaned if term in taken]
    if clashes:
        raise ValidationError(f"Already in another synonym set: {', '.join(clashes)}.", code=ErrorCode.UNIQUE,
                              field="terms")
    synonym_set = synonym_set if synonym_set is not None else SynonymSet()
    if synonym_set.pk is None and getattr(user, "pk", None):
        synonym_set.created_by = user
    synonym_set.terms = cleaned
    synonym_set.save()
    _forget()
    transaction.on_commit(_forget)  # a concurrent reader may have cached the old sets meanwhile
    return synonym_set


@transaction.atomic
def delete_synonym_set(synonym_set):
    synonym_set.delete()
    _forget()
    transaction.on_commit(_forget)


def synonym_sets():
    """All sets as lists of folded terms (cached; cleared on every change)."""
    sets = cache.get(CACHE_KEY)
    if sets is None:
        sets = [list(s.terms) for s in SynonymSet.objects.order_by("pk")]
        cache.set(CACHE_KEY, sets, CACHE_SECONDS)
    return sets
