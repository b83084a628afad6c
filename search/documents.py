"""Elasticsearch documents (`elasticsearch.dsl`) and how database rows become them.

Mappings use only what every Elasticsearch node ships with (the local test node lacks
the analysis-common module, so: no synonym/ngram/edge_ngram filters, no stemmers, no
scripts, no scaled_float):

- Text: the `standard` analyzer (one token per CJK character, lower-cased words); ranking
  comes from `match_phrase` boosts, recall from a `combined_fields` query over names,
  brand and category path (the characters/words present). Typo tolerance is query-time
  fuzziness on the Latin fields only. (`latin` = standard tokenizer + lowercase is
  defined for descriptions and plugins.)
- Codes (SKUs, part and OE numbers): keywords with the `code` (lowercase) normalizer,
  stored normalised (no spaces, hyphens, dots, slashes), so an exact match is a term query.
- Suggestions: `completion` fields; synonyms: expanded at query time (search/text.py).
- Money: `double` (scaled_float is not available); the database stays the source of
  truth for prices shown to clients.
"""
import copy
import time
from typing import NamedTuple

from django.conf import settings
from elasticsearch.dsl import (
    Boolean, Completion, Date, Document, Double, GeoPoint, Index, Integer, IntegerRange, Keyword, Long, Mapping,
    MetaField, Text, analyzer, normalizer,
)

from marketplace.catalog.models import Category, ProductStatus, ProductVariant
from marketplace.plugins.manager import get_manager
from marketplace.vendors.models import VendorStatus

from .text import normalize_code, opening_ranges

latin = analyzer("latin", tokenizer="standard", filter=["lowercase"])
code = normalizer("code", filter=["lowercase"])

PRODUCTS = "products"
SHOPS = "shops"
MAX_SUGGEST_INPUTS = 8
MAX_WEIGHT = 2**31 - 1
BRAND_KEY_SEPARATOR = "\x1f"


def zh_text(**kwargs):
    return Text(analyzer="standard", **kwargs)


def en_text(**kwargs):
    return Text(analyzer=latin, **kwargs)


class ProductDocument(Document):
    product_id = Long()
    slug = Keyword()
    # Names, brand and category path are analysed alike (standard: CJK characters and
    # lower-cased words), so one `combined_fields` query treats them as one field:
    # "博世刹车片" finds a 刹车片 of the brand 博世, "博世 brake pads" mixes languages.
    # (Cheaper to index than copying them into a catch-all field.)
    name_zh = zh_text(fields={"raw": Keyword(ignore_above=256)})
    name_en = zh_text()
    description_zh = zh_text()
    description_en = en_text()
    # Ids used by filters and facets are keywords: terms aggregations run on global ordinals.
    brand_id = Keyword(eager_global_ordinals=True)
    brand_slug = Keyword()
    brand_name_zh = zh_text()
    brand_name_en = zh_text()
    brand_keys = Keyword()  # brand suggestions (see brand_keys())
    category_id = Long()
    # The category and all its ancestors: filtering on one includes its descendants.
    category_ids = Keyword(eager_global_ordinals=True)
    category_names_zh = zh_text()
    category_names_en = zh_text()
    vendor_id = Keyword()
    vendor_slug = Keyword()
    vendor_kind = Keyword(eager_global_ordinals=True)
    vendor_name = zh_text()
    vendor_status = Keyword()
    status = Keyword()
    price = Double()
    in_stock = Boolean()
    sales_count = Integer()
    created_at = Date()
    updated_at = Date()
    indexed_at = Date()
    skus = Keyword(normalizer=code)
    codes = Keyword(normalizer=code)  # normalised SKUs (plugins match their own numbers)
    # Whole names only (each extra input costs indexing time): completions of a later
    # word come from a phrase-prefix query at suggestion time.
    suggest_name = Completion(analyzer="simple", preserve_separators=True, max_input_length=60)

    class Meta:
        dynamic = MetaField(False)  # unknown fields are kept in _source, never guessed


class ShopDocument(Document):
    vendor_id = Long()
    slug = Keyword()
    kind = Keyword()
    status = Keyword()
    name_zh = zh_text(copy_to="text_all", fields={"raw": Keyword(ignore_above=256)})
    name_en = en_text(copy_to=["text_all", "text_en"])
    description_zh = zh_text()
    description_en = en_text()
    text_all = zh_text()
    text_en = en_text()
    province = Keyword(copy_to="text_all")
    city = Keyword(copy_to="text_all")
    district = Keyword(copy_to="text_all")
    street = zh_text(copy_to="text_all")
    location = GeoPoint()
    # Opening hours as minute-of-week ranges in the business time zone (Mon 00:00 = 0):
    # "open now" is a term query for the current minute on this range field.
    open_minutes = IntegerRange()
    services = Keyword(normalizer=code)
    updated_at = Date()
    indexed_at = Date()
    suggest = Completion(analyzer="simple", preserve_separators=True, max_input_length=60)

    class Meta:
        dynamic = MetaField(False)


DOCUMENTS = {PRODUCTS: ProductDocument, SHOPS: ShopDocument}
PLUGIN_MAPPING_HOOKS = {PRODUCTS: "search_mapping_fields", SHOPS: "search_shop_mapping_fields"}


def plugin_fields(kind):
    """{field: dsl field} contributed by installed plugins (active or not)."""
    core = DOCUMENTS[kind]._doc_type.mapping
    fields = {}
    for plugin_name, contributed in get_manager().call_each(PLUGIN_MAPPING_HOOKS[kind], include_inactive=True):
        for name, field in (contributed or {}).items():
            if name in core or name in fields:
                raise RuntimeError(f"Plugin {plugin_name!r} redefines the search field {kind}.{name}")
            fields[name] = field
    return fields


def build_index(kind, name, building=False):
    """An `elasticsearch.dsl.Index` for a new versioned index of `kind`."""
    mapping = Mapping()
    mapping.update(DOCUMENTS[kind]._doc_type.mapping)
    for field_name, field in plugin_fields(kind).items():
        mapping.field(field_name, copy.deepcopy(field))
    index = Index(name)
    index.settings(
        number_of_shards=1,
        number_of_replicas=0 if building else settings.SEARCH_INDEX_REPLICAS,
        refresh_interval="-1" if building else "1s",
        # While a rebuild fills the index nobody reads it, and a crash means starting again:
        # no per-request translog fsync until it goes live.
        translog={"durability": "async" if building else "request"},
    )
    index.analyzer(latin)
    index.mapping(mapping)
    return index


def version_now():
    """External document version: the time the database was read, in microseconds.
    A write made from an older read never overwrites a newer one (`external_gte`)."""
    return time.time_ns() // 1000


# -- products -------------------------------------------------------------------------
class CategoryPaths:
    """Category ids and names from the root down, from one query of the (small) tree."""

    def __init__(self):
        self.tree = {c.pk: c for c in Category.objects.all()}
        self._paths = {}

    def path(self, category_id):
        if category_id not in self._paths:
            path, node, seen = [], self.tree.get(category_id), set()
            while node is not None and node.pk not in seen:
                seen.add(node.pk)
                path.append(node)
                node = self.tree.get(node.parent_id)
            self._paths[category_id] = list(reversed(path))
        return self._paths[category_id]


def is_visible(product):
    return (product.status == ProductStatus.PUBLISHED and product.vendor.status == VendorStatus.APPROVED
            and not product.vendor.storefront_hidden)


def _suffixes(name):
    """Completion inputs: the name and the name from each later word, so "brake"
    completes "Bosch brake pads" (the completion suggester matches input prefixes)."""
    words = name.split()
    return [" ".join(words[i:]) for i in range(1, min(len(words), 4))]


def _suggest_inputs(values):
    seen, out = set(), []
    for value in values:
        value = (value or "").strip()
        if value and value.casefold() not in seen:
            seen.add(value.casefold())
            out.append(value[:60])
    return out[:MAX_SUGGEST_INPUTS]


class Doc(NamedTuple):
    """One document to write: its id and its `_source`."""

    id: int
    source: dict


def _compact(values):
    """Drop empty values, as elasticsearch.dsl's `to_dict()` does (smaller requests)."""
    return {k: v for k, v in values.items() if v is not None and v != [] and v != {} and v != ""}


def brand_keys(brand):
    """Terms for brand suggestions: "<folded name> <id> <name>" (separated by U+001F). A terms aggregation
    whose `include` regex is the folded prefix lists matching brands of visible
    products, counted - no completion field repeated on every product."""
    return sorted({BRAND_KEY_SEPARATOR.join((name.casefold(), str(brand.pk), name))
                   for name in (brand.name_zh, brand.name_en) if name})


def product_documents(products, paths=None, now=None):
    """Documents (mapping: `ProductDocument`) for visible products (vendor and brand
    loaded). One query for the SKUs of the batch, then the plugins'
    `search_product_fields`. Built as plain dicts: constructing and serialising a
    `Document` instance per product costs more than the rest of the work together."""
    paths = paths or CategoryPaths()
    ids = [p.pk for p in products]
    skus = {}
    for product_id, sku in ProductVariant.objects.filter(product_id__in=ids, is_active=True).order_by(
            "product_id", "position", "pk").values_list("product_id", "sku"):
        skus.setdefault(product_id, []).append(sku)
    extra = {}
    for contributed in get_manager().call_all("search_product_fields", include_inactive=True, products=products):
        for product_id, values in (contributed or {}).items():
            extra.setdefault(int(product_id), {}).update(values or {})
    documents = []
    for product in products:
        path = paths.path(product.category_id)
        brand = product.brand
        vendor = product.vendor
        product_skus = skus.get(product.pk, [])
        source = _compact({
            "product_id": product.pk,
            "slug": product.slug,
            "name_zh": product.name_zh,
            "name_en": product.name_en,
            "description_zh": product.description_zh,
            "description_en": product.description_en,
            "brand_id": str(brand.pk) if brand else None,
            "brand_slug": brand.slug if brand else None,
            "brand_name_zh": brand.name_zh if brand else None,
            "brand_name_en": brand.name_en if brand else None,
            "brand_keys": brand_keys(brand) if brand else None,
            "category_id": product.category_id,
            "category_ids": [str(c.pk) for c in path],
            "category_names_zh": [c.name_zh for c in path],
            "category_names_en": [c.name_en for c in path if c.name_en],
            "vendor_id": str(vendor.pk),
            "vendor_slug": vendor.slug,
            "vendor_kind": vendor.kind,
            "vendor_name": vendor.name_zh,
            "vendor_status": vendor.status,
            "status": product.status,
            "price": product.min_price,
            "in_stock": product.in_stock,
            "sales_count": product.sales_count,
            "created_at": product.created_at,
            "updated_at": product.updated_at,
            "indexed_at": now,
            "skus": product_skus,
            "codes": sorted({normalize_code(s) for s in product_skus} - {""}),
            "suggest_name": {
                "input": _suggest_inputs([product.name_zh, product.name_en]),
                "weight": min(int(product.sales_count or 0) + 1, MAX_WEIGHT),
            },
        })
        source.update(extra.get(product.pk, {}))
        documents.append(Doc(product.pk, source))
    return documents


# -- shops ----------------------------------------------------------------------------
def shop_extra_fields(vendors, include_inactive=True):
    extra = {}
    for contributed in get_manager().call_all("search_shop_fields", include_inactive=include_inactive,
                                              vendors=vendors):
        for vendor_id, values in (contributed or {}).items():
            target = extra.setdefault(int(vendor_id), {})
            for name, value in (values or {}).items():
                if name == "services":
                    target.setdefault("services", [])
                    target["services"].extend(str(v) for v in (value or []))
                else:
                    target[name] = value
    return extra


def shop_documents(vendors, now=None):
    """Documents (mapping: `ShopDocument`) for approved vendors."""
    extra = shop_extra_fields(vendors)
    documents = []
    for vendor in vendors:
        location = None
        if vendor.latitude is not None and vendor.longitude is not None:
            location = {"lat": float(vendor.latitude), "lon": float(vendor.longitude)}
        values = dict(extra.get(vendor.pk, {}))
        services = sorted({s.strip() for s in values.pop("services", []) if s and s.strip()})
        source = _compact({
            "vendor_id": vendor.pk,
            "slug": vendor.slug,
            "kind": vendor.kind,
            "status": vendor.status,
            "name_zh": vendor.name_zh,
            "name_en": vendor.name_en,
            "description_zh": vendor.description_zh,
            "description_en": vendor.description_en,
            "province": vendor.province,
            "city": vendor.city,
            "district": vendor.district,
            "street": vendor.street,
            "location": location,
            "open_minutes": opening_ranges(vendor.opening_hours),
            "services": services,
            "updated_at": vendor.updated_at,
            "indexed_at": now,
            "suggest": {"input": _suggest_inputs([vendor.name_zh, vendor.name_en, *_suffixes(vendor.name_en or "")])},
        })
        source.update(values)
        documents.append(Doc(vendor.pk, source))
    return documents
