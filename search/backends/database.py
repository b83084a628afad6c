"""The embedded backend: SQL over the catalog, no index to keep.

It answers every query of the contract, with these limits, which it reports in every
result's `unsupported` notes instead of pretending:

- no typo tolerance ("bosh" does not find "Bosch");
- no word segmentation: a Chinese query must appear as written in one field
  ("博世刹车片" does not find a 刹车片 of the brand 博世; "博世 刹车片" does);
- coarse relevance: exact code matches, then name matches, then the rest, each by sales;
- scale: every text query scans products with LIKE, and shop distances are computed
  in Python over all approved vendors - fine for a demo or a small marketplace.
"""
from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Q, Value, When
from django.db.models.functions import Replace, Upper

from marketplace.catalog.models import Brand, Category, Product, ProductVariant
from marketplace.catalog.services import visible_products
from marketplace.plugins.manager import get_manager
from marketplace.vendors.models import Vendor, VendorStatus
from marketplace.vendors.opening import is_open

from ..documents import shop_extra_fields
from ..query import (
    FACETS, PRICE_BUCKETS, Capability, FacetValue, PriceBucket, ProductHit, ProductResult, ShopHit, ShopResult, Sort,
    Suggestion, Suggestions, Unsupported,
)
from ..query import NEXT_FREE_SLOT_FIELD, ShopSort
from ..text import SQL_SEPARATORS, clean_query, haversine_km, highlight, tokens
from .base import SearchBackend

PRODUCT_NOTES = (
    Unsupported(Capability.TYPO_TOLERANCE,
                "The database backend matches text exactly (case-insensitive): a misspelt word finds nothing."),
    Unsupported(Capability.WORD_SEGMENTATION,
                "Chinese text must appear as typed in one field; separate words with spaces to match them apart."),
    Unsupported(Capability.RELEVANCE_RANKING,
                "Relevance is coarse: exact code matches, then name matches, then other matches, each by sales."),
    Unsupported(Capability.SCALE,
                "Text queries scan the products table (LIKE); use the elasticsearch backend for large catalogs."),
)
SHOP_NOTES = (
    Unsupported(Capability.TYPO_TOLERANCE,
                "The database backend matches shop names exactly (case-insensitive)."),
    Unsupported(Capability.SCALE,
                "Distances and opening hours are computed in Python over every approved shop."),
)
SUGGEST_NOTES = (
    Unsupported(Capability.TYPO_TOLERANCE, "Suggestions are name prefixes only (no typo tolerance)."),
)


class CategoryTree:
    def __init__(self):
        self.nodes = {c.pk: c for c in Category.objects.all()}

    def descendants(self, ids):
        wanted = {int(i) for i in ids}
        changed = True
        while changed:
            changed = False
            for node in self.nodes.values():
                if node.parent_id in wanted and node.pk not in wanted:
                    wanted.add(node.pk)
                    changed = True
        return wanted

    def ancestors(self, category_id):
        """The category and its ancestors."""
        out, node, seen = [], self.nodes.get(category_id), set()
        while node is not None and node.pk not in seen:
            seen.add(node.pk)
            out.append(node.pk)
            node = self.nodes.get(node.parent_id)
        return out

    def matching(self, term):
        """Categories whose own or an ancestor's name contains `term`: their products
        match (the search document indexes the whole category path)."""
        term = term.casefold()
        named = {pk for pk, c in self.nodes.items()
                 if term in (c.name_zh or "").casefold() or term in (c.name_en or "").casefold()}
        return self.descendants(named) if named else set()


def _normalised_sku():
    expression = "sku"
    for separator in SQL_SEPARATORS:
        expression = Replace(expression, Value(separator), Value(""))
    return Upper(expression)


def _variants():
    return ProductVariant.objects.filter(product_id=OuterRef("pk"), is_active=True)


class DatabaseBackend(SearchBackend):
    name = "database"
    keeps_index = False

    # -- products -------------------------------------------------------------------
    def _term(self, term, tree):
        """Products where `term` appears in a name, description, brand, category path or SKU."""
        condition = (Q(name_zh__icontains=term) | Q(name_en__icontains=term) | Q(description_zh__icontains=term)
                     | Q(description_en__icontains=term)
                     | Q(brand_id__in=Brand.objects.filter(Q(name_zh__icontains=term) | Q(name_en__icontains=term)
                                                           | Q(slug__iexact=term)).values("pk"))
                     | Q(Exists(_variants().filter(sku__icontains=term))))
        categories = tree.matching(term)
        if categories:
            condition |= Q(category_id__in=categories)
        return condition

    def _phrase(self, text, tree):
        """All whitespace-separated tokens of `text` match (each anywhere)."""
        condition = Q()
        for token in tokens(text):
            condition &= self._term(token, tree)
        return condition

    def _code(self, code):
        conditions = [Q(Exists(_variants().annotate(normalised=_normalised_sku()).filter(normalised=code)))]
        for clause in get_manager().call_all("search_code_match", code=code, backend=self.name):
            conditions.append(clause if isinstance(clause, Q) else Q(clause))
        combined = Q()
        for condition in conditions:
            combined |= condition
        return combined

    def _text(self, parsed, tree):
        """(match condition, name condition, code condition) for a parsed query."""
        match = self._phrase(parsed.rest, tree) if parsed.rest else Q()
        for group in parsed.groups:
            any_of = Q()
            for term in group:
                any_of |= self._phrase(term, tree)
            match &= any_of
        names = Q()
        for term in parsed.alternatives:
            names |= Q(name_zh__icontains=term) | Q(name_en__icontains=term)
        code = self._code(parsed.code) if parsed.code else None
        if code is not None:
            match = match | code
        return match, names, code

    def _facet_conditions(self, filters, tree):
        conditions = {}
        if filters.category_ids:
            conditions["category"] = Q(category_id__in=tree.descendants(filters.category_ids))
        if filters.brand_ids:
            conditions["brand"] = Q(brand_id__in=filters.brand_ids)
        if filters.vendor_kind:
            conditions["vendor_kind"] = Q(vendor__kind=filters.vendor_kind)
        if filters.in_stock is not None:
            conditions["in_stock"] = Q(in_stock=filters.in_stock)
        price = Q()
        if filters.price_min is not None:
            price &= Q(min_price__gte=filters.price_min)
        if filters.price_max is not None:
            price &= Q(min_price__lte=filters.price_max)
        if price:
            conditions["price"] = price
        return conditions

    def search_products(self, query):
        tree = CategoryTree()
        base = visible_products()
        names = code = None
        if not query.parsed.empty:
            match, names, code = self._text(query.parsed, tree)
            base = base.filter(match)
        filters = query.filters
        if filters.vendor_ids:
            base = base.filter(vendor_id__in=filters.vendor_ids)
        if filters.plugin:
            # The plugins' listing filters (`filter_products` hook) apply unchanged.
            base = get_manager().call_fold("filter_products", base, filters=filters.raw, context=query.context)
        conditions = self._facet_conditions(filters, tree)
        results = base.filter(*conditions.values())
        total = results.count()
        ordered = self._sort(results, query.sort, names, code)
        ids = list(ordered.values_list("pk", flat=True)[query.offset:query.offset + query.limit])
        hits = [ProductHit(id=pk) for pk in ids]
        if query.highlight and ids and not query.parsed.empty:
            self._highlight(hits, query.parsed)
        facets, price_ranges = {}, []
        if query.facets:
            facets = self._facets(base, conditions, tree)
            price_ranges = self._price_ranges(base.filter(*[c for k, c in conditions.items() if k != "price"]))
        return ProductResult(hits=hits, total=total, facets=facets, price_ranges=price_ranges,
                             unsupported=list(PRODUCT_NOTES))

    def _sort(self, qs, sort, names, code):
        if sort == Sort.PRICE_ASC:
            from django.db.models import F

            return qs.order_by(F("min_price").asc(nulls_last=True), "pk")
        if sort == Sort.PRICE_DESC:
            from django.db.models import F

            return qs.order_by(F("min_price").desc(nulls_last=True), "pk")
        if sort == Sort.NEWEST:
            return qs.order_by("-created_at", "-pk")
        if sort == Sort.RELEVANCE and names is not None:
            whens = []
            if code is not None:
                whens.append(When(code, then=Value(3)))
            whens.append(When(names, then=Value(2)))
            tier = Case(*whens, default=Value(1), output_field=IntegerField())
            return qs.annotate(search_tier=tier).order_by("-search_tier", "-sales_count", "pk")
        return qs.order_by("-sales_count", "pk")

    def _highlight(self, hits, parsed):
        terms = [parsed.text, *tokens(parsed.rest)] + [t for group in parsed.groups for t in group]
        rows = {pk: (zh, en) for pk, zh, en in Product.objects.filter(pk__in=[h.id for h in hits]).values_list(
            "pk", "name_zh", "name_en")}
        for hit in hits:
            zh, en = rows.get(hit.id, ("", ""))
            for field, value in (("name_zh", zh), ("name_en", en)):
                marked = highlight(value, terms)
                if marked:
                    hit.highlights[field] = [marked]

    def _facets(self, base, conditions, tree):
        def narrowed(dimension):
            return base.filter(*[c for k, c in conditions.items() if k != dimension]).order_by()

        facets = {}
        per_category = {}
        for row in narrowed("category").values("category_id").annotate(n=Count("pk")):
            for category_id in tree.ancestors(row["category_id"]):
                per_category[category_id] = per_category.get(category_id, 0) + row["n"]
        facets["category"] = [FacetValue(k, n) for k, n in per_category.items()]
        facets["brand"] = [FacetValue(r["brand_id"], r["n"]) for r in
                           narrowed("brand").exclude(brand_id=None).values("brand_id").annotate(n=Count("pk"))]
        facets["vendor_kind"] = [FacetValue(r["vendor__kind"], r["n"]) for r in
                                 narrowed("vendor_kind").values("vendor__kind").annotate(n=Count("pk"))]
        facets["in_stock"] = [FacetValue(bool(r["in_stock"]), r["n"]) for r in
                              narrowed("in_stock").values("in_stock").annotate(n=Count("pk"))]
        for name in FACETS:
            facets[name] = sorted((v for v in facets[name] if v.count), key=lambda v: (-v.count, v.key))
        return facets

    def _price_ranges(self, qs):
        aggregates = {}
        for index, (low, high) in enumerate(PRICE_BUCKETS):
            condition = Q(min_price__gte=low)
            if high is not None:
                condition &= Q(min_price__lt=high)
            aggregates[f"b{index}"] = Count("pk", filter=condition)
        counts = qs.order_by().aggregate(**aggregates)
        return [PriceBucket(low, high, counts[f"b{index}"]) for index, (low, high) in enumerate(PRICE_BUCKETS)]

    # -- suggestions ------------------------------------------------------------------
    def suggest(self, prefix, limit=5):
        prefix = clean_query(prefix)
        result = Suggestions(unsupported=list(SUGGEST_NOTES))
        if not prefix:
            return result
        starts = Q(name_zh__istartswith=prefix) | Q(name_en__istartswith=prefix) | Q(name_en__icontains=" " + prefix)
        seen = set()
        for pk, zh, en in visible_products().filter(starts).order_by("-sales_count", "pk").values_list(
                "pk", "name_zh", "name_en")[:limit * 4]:
            text = zh if zh.casefold().startswith(prefix.casefold()) else en
            if text.casefold() not in seen and len(result.products) < limit:
                seen.add(text.casefold())
                result.products.append(Suggestion("product", pk, text))
        has_products = Exists(visible_products().filter(brand_id=OuterRef("pk")))
        for brand in Brand.objects.filter(Q(name_zh__istartswith=prefix) | Q(name_en__istartswith=prefix)).filter(
                has_products).order_by("slug")[:limit]:
            text = brand.name_zh if brand.name_zh.casefold().startswith(prefix.casefold()) else brand.name_en
            result.brands.append(Suggestion("brand", brand.pk, text))
        shops = (Vendor.objects.filter(status=VendorStatus.APPROVED, storefront_hidden=False).filter(starts)
                 .order_by("pk")[:limit])
        for vendor in shops:
            text = vendor.name_zh if vendor.name_zh.casefold().startswith(prefix.casefold()) else vendor.name_en
            result.shops.append(Suggestion("shop", vendor.pk, text))
        return result

    # -- shops --------------------------------------------------------------------------
    def _shop_term(self, term):
        condition = Q()
        for name in ("name_zh", "name_en", "description_zh", "description_en", "province", "city", "district",
                     "street"):
            condition |= Q(**{f"{name}__icontains": term})
        return condition

    def search_shops(self, query):
        qs = Vendor.objects.filter(status=VendorStatus.APPROVED, storefront_hidden=False)
        if query.kind:
            qs = qs.filter(kind=query.kind)
        parsed = query.parsed
        names = None
        if parsed is not None and not parsed.empty:
            match = Q()
            for token in tokens(parsed.rest) if parsed.rest else []:
                match &= self._shop_term(token)
            for group in parsed.groups:
                any_of = Q()
                for term in group:
                    any_of |= self._shop_term(term)
                match &= any_of
            qs = qs.filter(match)
            names = {t.casefold() for t in parsed.alternatives}
        vendors = list(qs.order_by("pk"))
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

    def status(self):
        return {"backend": self.name, "products": {"database": visible_products().count()},
                "note": "The database backend reads the catalog directly: there is no index to build."}


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
