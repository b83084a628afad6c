"""Suggestions and shop search of the database backend (a mixin of DatabaseBackend)."""
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.expressions import RawSQL

from marketplace.catalog.models import Brand, Product
from marketplace.catalog.selectors import listed_vendors
from marketplace.vendors.opening import is_open

from ..documents import shop_extra_fields, shop_offers
from ..query import NEXT_FREE_SLOT_FIELD, Capability, ShopHit, ShopResult, ShopSort, Suggestion, Suggestions, Unsupported
from ..text import clean_query, fold, haversine_km, tokens, words
from . import dbtext

SHOP_NOTES = (
    Unsupported(Capability.SCALE,
                "Shop distances and opening hours are computed in Python over every approved shop matching the "
                "other conditions."),
)


class DatabaseSuggestions:
    # -- suggestions ------------------------------------------------------------------------
    def suggest(self, prefix, limit=5):
        """Products whose names, brand, category or product type hold the prefix (Latin:
        a word starting with it; Chinese: its characters in a row), best sellers first,
        one per name; brands of visible products with the most products first; approved
        shops. Prefixes on both backends: no typo tolerance here."""
        from ..models import ProductSearchRow

        prefix = clean_query(prefix)
        result = Suggestions(unsupported=self.notes())
        if not prefix:
            return result
        folded = fold(prefix)
        parts = words(prefix)
        if parts:
            plan_parts = []
            for position, (is_cjk, word) in enumerate(parts):
                last = position == len(parts) - 1
                if is_cjk:
                    plan_parts.append(dbtext.All([dbtext.Term(word[i:i + 2]) for i in range(len(word) - 1)])
                                      if len(word) > 1 else dbtext.Term(word))
                else:
                    plan_parts.append(dbtext.Term(word, prefix=last))
            plan = dbtext.All(plan_parts)
            rows = ProductSearchRow.objects.filter(visible=True)
            engine = dbtext.engine()
            if engine == "postgresql":  # the match rows carry the facts: no join
                from django.contrib.postgres.search import SearchQuery

                from ..models import ProductSearchMatch

                rows = ProductSearchMatch.objects.filter(visible=True, vector=SearchQuery(
                    dbtext.to_tsquery(plan), search_type="raw", config="simple"))
            elif engine == "fts5":
                rows = rows.filter(product_id__in=RawSQL(
                    "SELECT rowid FROM search_product_fts WHERE search_product_fts MATCH %s",
                    ["{names meta codes} : " + dbtext.to_fts5(plan)]))
            else:
                rows = rows.filter(dbtext.to_like(plan, columns=dbtext.NAME_COLUMNS))
            ids = list(rows.order_by("-sales_count", "pk").values_list("pk", flat=True)[:limit * 8])
            names = {pk: (zh, en) for pk, zh, en in Product.objects.filter(pk__in=ids).values_list(
                "pk", "name_zh", "name_en")}
            seen = set()
            for pk in ids:
                zh, en = names.get(pk, ("", ""))
                text = en if (folded.isascii() and en) else zh
                if text and text.casefold() not in seen and len(result.products) < limit:
                    seen.add(text.casefold())
                    result.products.append(Suggestion("product", pk, text))
        counted = (ProductSearchRow.objects.filter(visible=True, brand_id=OuterRef("pk")).order_by()
                   .values("brand_id").annotate(n=Count("product_id")).values("n"))
        brands = Brand.objects.filter(Q(name_zh__istartswith=prefix) | Q(name_en__istartswith=prefix)).annotate(
            n=Subquery(counted)).filter(n__gt=0).order_by("-n", "slug")[:limit]
        for brand in brands:
            text = brand.name_zh if brand.name_zh.casefold().startswith(folded) else brand.name_en
            result.brands.append(Suggestion("brand", brand.pk, text))
        starts = Q(name_zh__istartswith=prefix) | Q(name_en__istartswith=prefix) | Q(name_en__icontains=" " + prefix)
        for vendor in listed_vendors().filter(starts).order_by("pk")[:limit]:
            text = vendor.name_zh if vendor.name_zh.casefold().startswith(folded) else vendor.name_en
            result.shops.append(Suggestion("shop", vendor.pk, text))
        return result

    # -- shops ----------------------------------------------------------------------------------
    @staticmethod
    def _shop_texts(vendors):
        """{vendor_id: folded text}: names, descriptions, address and what the shop does
        (its kind's words, plugin services, the categories it sells in)."""
        offers = shop_offers(vendors)
        out = {}
        for vendor in vendors:
            parts = [vendor.name_zh, vendor.name_en, vendor.description_zh, vendor.description_en, vendor.province,
                     vendor.city, vendor.district, vendor.street, *offers.get(vendor.pk, [])]
            out[vendor.pk] = " ".join(fold(p) for p in parts if p)
        return out

    def search_shops(self, query):
        qs = listed_vendors()
        if query.kind:
            qs = qs.filter(kind=query.kind)
        vendors = list(qs.order_by("pk"))
        parsed = query.parsed
        names = None
        if parsed is not None and not parsed.empty:
            # Every plain word, and one term of every synonym group, in the shop's text.
            units = [[word] for word in tokens(fold(parsed.rest))] if parsed.rest else []
            units += [[fold(term) for term in group] for group in parsed.groups]
            texts = self._shop_texts(vendors)
            vendors = [v for v in vendors if all(any(term in texts[v.pk] for term in unit) for unit in units)]
            names = {t.casefold() for t in parsed.alternatives}
        by_slot = query.sort == ShopSort.NEXT_FREE_SLOT.value
        extra = shop_extra_fields(vendors) if (query.services or by_slot) else {}
        if query.services:
            wanted = {s.strip().casefold() for s in query.services if s.strip()}
            vendors = [v for v in vendors
                       if wanted <= {s.strip().casefold() for s in extra.get(v.pk, {}).get("services", [])}]
        if query.open_now is not None:
            vendors = [v for v in vendors if is_open(v.opening_hours, query.now) == query.open_now]
        hits = []
        for vendor in vendors:
            distance = None
            if query.lat is not None and vendor.latitude is not None and vendor.longitude is not None:
                distance = haversine_km(query.lat, query.lon, float(vendor.latitude), float(vendor.longitude))
            if query.radius_km is not None and query.lat is not None and (distance is None
                                                                         or distance > query.radius_km):
                continue
            hit = ShopHit(id=vendor.pk, distance_km=distance)
            if names is not None:
                hit.score = 2.0 if any(n in (vendor.name_zh or "").casefold() or n in (vendor.name_en or "").casefold()
                                       for n in names) else 1.0
            hits.append(hit)
        if query.lat is not None:
            hits.sort(key=lambda h: (h.distance_km is None, h.distance_km or 0.0, h.id))
        elif names is not None:
            hits.sort(key=lambda h: (-h.score, h.id))
        if by_slot:  # stable: ties keep the order above (distance, text match, id)
            hits.sort(key=lambda h: _slot_key(extra.get(h.id, {}).get(NEXT_FREE_SLOT_FIELD)))
        total = len(hits)
        return ShopResult(hits=hits[query.offset:query.offset + query.limit], total=total,
                          unsupported=list(SHOP_NOTES))


def _slot_key(value):
    """Sort key of a `next_free_slot` value (an aware datetime or its ISO text): earliest
    first, shops without one last."""
    if value is None or value == "":
        return (1, 0.0)
    if isinstance(value, str):
        from datetime import datetime

        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return (1, 0.0)
    return (0, value.timestamp())
