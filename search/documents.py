"""How database rows become search documents: product and shop documents (values,
suggestion inputs, families, visibility), the index with its plugin fields, versions.

The mappings and analysis are in search.mappings (names re-exported here).
"""
import copy
import hashlib
import re
import time
from typing import NamedTuple

from django.conf import settings
from elasticsearch.dsl import Index, Mapping

from marketplace.catalog.models import Category, ProductStatus, ProductType, ProductVariant
from marketplace.catalog.selectors import is_listed
from marketplace.plugins.manager import get_manager

from . import fields as product_fields
from .mappings import ANALYZERS, BRAND_KEY_SEPARATOR, DOCUMENTS, MAX_SUGGEST_INPUTS, MAX_WEIGHT, PRODUCTS
from .text import fold, normalize_code, opening_ranges


def plugin_fields(kind):
    """{field: dsl field} contributed by installed plugins (active or not): product fields
    from `register_product_fields`, shop fields from `search_shop_mapping_fields`."""
    if kind == PRODUCTS:
        return product_fields.mappings()
    core = DOCUMENTS[kind]._doc_type.mapping
    fields = {}
    for plugin_name, contributed in get_manager().call_each("search_shop_mapping_fields", include_inactive=True):
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
    for item in ANALYZERS:
        index.analyzer(item)
    index.mapping(mapping)
    return index


def version_now():
    """External document version: the time the database was read, in microseconds.
    A write made from an older read never overwrites a newer one (`external_gte`)."""
    return time.time_ns() // 1000


# -- products -------------------------------------------------------------------------
class CategoryPaths:
    """Category paths (root down) and product types, from one query each of the (small)
    tables: documents of a batch need no join for them."""

    def __init__(self):
        self.tree = {c.pk: c for c in Category.objects.all()}
        self.types = {t.pk: t for t in ProductType.objects.all()}
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

    def product_type(self, type_id):
        return self.types.get(type_id)


# Shop tags vendors put around a name ("【包安装】", "[Genuine] ") and anything that is not a
# letter or digit: what is left, with the brand, says "the same product".
_TAGS = re.compile(r"【[^】]*】|\[[^\]]*\]|[^\w]+|_")


def family_key(brand_id, name_zh):
    """One key for the same product sold by many vendors: the brand and the Chinese name
    folded, without shop tags, spaces or punctuation (hashed: a short keyword)."""
    base = f"{brand_id or 0}:{_TAGS.sub('', fold(name_zh or ''))}"
    return hashlib.blake2b(base.encode(), digest_size=8).hexdigest()


def is_visible(product):
    return product.status == ProductStatus.PUBLISHED and is_listed(product.vendor)


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


TAXONOMY_CACHE_KEY = "search:taxonomy-names:v1"
TAXONOMY_CACHE_SECONDS = 300


def taxonomy_matching(prefix):
    """(category ids, product type ids) whose Chinese or English name starts with `prefix`
    (folded): what suggestions complete through, so "刹车" reaches brake pads whatever
    brand their names start with. The (small) tables are cached for a few minutes."""
    from django.core.cache import cache

    names = cache.get(TAXONOMY_CACHE_KEY)
    if names is None:
        names = ([("category", pk, fold(zh), fold(en)) for pk, zh, en in Category.objects.values_list(
            "pk", "name_zh", "name_en")] + [("type", pk, fold(zh), fold(en)) for pk, zh, en in
                                             ProductType.objects.values_list("pk", "name_zh", "name_en")])
        cache.set(TAXONOMY_CACHE_KEY, names, TAXONOMY_CACHE_SECONDS)
    folded = fold(prefix)
    categories, types = [], []
    for kind, pk, zh, en in names:
        if folded and (zh.startswith(folded) or (en and en.startswith(folded))):
            (categories if kind == "category" else types).append(pk)
    return categories, types


def product_documents(products, paths=None, now=None):
    """Documents (mapping: `ProductDocument`) for visible products (vendor and brand
    loaded). One query for the SKUs of the batch, then the plugins' declared fields
    (`register_product_fields` values). Built as plain dicts: constructing and
    serialising a `Document` instance per product costs more than the rest together."""
    paths = paths or CategoryPaths()
    ids = [p.pk for p in products]
    skus = {}
    for product_id, sku in ProductVariant.objects.filter(product_id__in=ids, is_active=True).order_by(
            "product_id", "position", "pk").values_list("product_id", "sku"):
        skus.setdefault(product_id, []).append(sku)
    extra = product_fields.document_values(products)
    documents = []
    for product in products:
        path = paths.path(product.category_id)
        product_type = paths.product_type(product.product_type_id)
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
            "product_type_id": str(product.product_type_id),
            "product_type_zh": product_type.name_zh if product_type else None,
            "product_type_en": product_type.name_en if product_type else None,
            "vendor_id": str(vendor.pk),
            "vendor_slug": vendor.slug,
            "vendor_kind": vendor.kind,
            "vendor_name": vendor.name_zh,
            "vendor_status": vendor.status,
            "family": family_key(product.brand_id, product.name_zh),
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


# What each kind of shop does, in the words people search with (both languages).
KIND_WORDS = {
    "parts_vendor": ["汽配", "汽车配件", "配件商", "auto parts", "parts shop"],
    "repair_shop": ["汽车维修", "维修店", "修理厂", "保养", "auto repair", "repair shop", "garage"],
    "dealer": ["4S店", "经销商", "汽车销售服务", "dealer", "dealership"],
}


def shop_offers(vendors, extra=None):
    """{vendor_id: [words]}: what each shop does - its kind, the services plugins report
    ("brake-repair" -> "brake repair") and the names of the categories (and their
    parents) of its visible products. One query for the whole batch."""
    from marketplace.catalog.services import visible_products

    extra = shop_extra_fields(vendors) if extra is None else extra
    paths = CategoryPaths()
    sold = {}
    for vendor_id, category_id in (visible_products().filter(vendor_id__in=[v.pk for v in vendors])
                                   .order_by().values_list("vendor_id", "category_id").distinct()):
        for category in paths.path(category_id):
            sold.setdefault(vendor_id, {}).update({category.name_zh: None, category.name_en: None})
    out = {}
    for vendor in vendors:
        words = list(KIND_WORDS.get(vendor.kind, []))
        words += [re.sub(r"[-_]+", " ", s).strip() for s in extra.get(vendor.pk, {}).get("services", [])]
        words += [w for w in sold.get(vendor.pk, {}) if w]
        out[vendor.pk] = list(dict.fromkeys(w for w in words if w))
    return out


def shop_documents(vendors, now=None):
    """Documents (mapping: `ShopDocument`) for approved vendors."""
    extra = shop_extra_fields(vendors)
    offers = shop_offers(vendors, extra)
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
            "offers": offers.get(vendor.pk),
            "updated_at": vendor.updated_at,
            "indexed_at": now,
            "suggest": {"input": _suggest_inputs([vendor.name_zh, vendor.name_en, *_suffixes(vendor.name_en or "")])},
        })
        source.update(values)
        documents.append(Doc(vendor.pk, source))
    return documents
