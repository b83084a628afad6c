"""The search documents' mappings and analysis (`elasticsearch.dsl`): what Elasticsearch
indexes and how. Building documents from database rows is in search.documents;
plugin fields join the mapping there (`build_index`).

Analysis (names as Elasticsearch's analysis-common module and the official
analysis-smartcn plugin define them; the local node offers the same names, see
search/node/README.md; production needs `analysis-smartcn` installed, which
`search.checks` verifies):

- Chinese text is indexed twice: the `standard` analyzer (one token per CJK
  character) for recall - smartcn splits names it does not know (卡罗拉 -> 卡 罗 拉) and
  short queries segment differently from the text - and a `.smart` sub-field
  (`zh_smart`: smartcn words) that ranks whole-word matches first, so 前轮刹车片 ranks
  brake pads for the front axle above 刹车盘 前轮.
- English text: `standard` for recall (names mix languages: "博世 brake pads") and an
  `.en` sub-field (`en_text`: lower case, ASCII folding, light stemming: "pads" ~ "pad").
- Codes (SKUs, part and OE numbers): keywords with the `code` (lowercase) normalizer,
  stored normalised (no spaces, hyphens, dots, slashes), so an exact match is a term query.
- Suggestions: `completion` fields fed by names; categories and product types whose
  names start with the prefix bring their best sellers (by id, nothing more to index);
  synonyms: expanded at query time from the staff-managed sets (no reindex).
- `family`: one key per "the same product" (brand + name without shop tags), for
  collapsing the same product sold by many vendors.
- Money: `double`; the database stays the source of truth for prices shown to clients.
"""
from elasticsearch.dsl import (
    Boolean, Completion, Date, Document, Double, GeoPoint, Integer, IntegerRange, Keyword, Long, MetaField, Text,
    analyzer, normalizer,
)

latin = analyzer("latin", tokenizer="standard", filter=["lowercase"])
en_text = analyzer("en_text", tokenizer="standard", filter=["lowercase", "asciifolding", "kstem"])
zh_smart = analyzer("zh_smart", tokenizer="smartcn_tokenizer", filter=["cjk_width", "lowercase", "smartcn_stop"])
code = normalizer("code", filter=["lowercase"])
ANALYZERS = (latin, en_text, zh_smart)
# What the mappings need from the cluster beyond a bare server (checked by search.checks).
REQUIRED_ANALYSIS = {"analyzer": ["smartcn"], "tokenizer": ["smartcn_tokenizer"],
                     "filter": ["smartcn_stop", "cjk_width", "asciifolding", "kstem"]}

PRODUCTS = "products"
SHOPS = "shops"
MAX_SUGGEST_INPUTS = 8
MAX_WEIGHT = 2**31 - 1
BRAND_KEY_SEPARATOR = "\x1f"


def zh_text(**kwargs):
    return Text(analyzer="standard", **kwargs)


def en_text_field(**kwargs):
    return Text(analyzer=en_text, **kwargs)


def zh_words(**kwargs):
    """Chinese: per character (recall) + `.smart` smartcn words (ranking)."""
    subfields = {"smart": Text(analyzer=zh_smart), **kwargs.pop("fields", {})}
    return Text(analyzer="standard", fields=subfields, **kwargs)


def en_words(**kwargs):
    """English (may hold Chinese too): standard (recall) + `.en` stemmed words (ranking)."""
    subfields = {"en": Text(analyzer=en_text), **kwargs.pop("fields", {})}
    return Text(analyzer="standard", fields=subfields, **kwargs)


class ProductDocument(Document):
    product_id = Long()
    slug = Keyword()
    # Names, brand, category path and product type are analysed alike (standard: CJK
    # characters and lower-cased words), so one `combined_fields` query treats them as one
    # field: "博世刹车片" finds a 刹车片 of the brand 博世, "博世 brake pads" mixes languages.
    name_zh = zh_words(fields={"raw": Keyword(ignore_above=256)})
    name_en = en_words()
    description_zh = zh_text()
    description_en = en_text_field()
    # Ids used by filters and facets are keywords: terms aggregations run on global ordinals.
    brand_id = Keyword(eager_global_ordinals=True)
    brand_slug = Keyword()
    # Brand, category and type: short, repeated names - per character / word is enough
    # (their whole-word matches rank through phrase queries); only names get sub-fields.
    brand_name_zh = zh_text()
    brand_name_en = zh_text()
    brand_keys = Keyword()  # brand suggestions (see brand_keys())
    category_id = Long()
    # The category and all its ancestors: filtering on one includes its descendants.
    category_ids = Keyword(eager_global_ordinals=True)
    category_names_zh = zh_text()
    category_names_en = zh_text()
    product_type_id = Keyword()
    product_type_zh = zh_text()
    product_type_en = zh_text()
    vendor_id = Keyword()
    vendor_slug = Keyword()
    vendor_kind = Keyword(eager_global_ordinals=True)
    vendor_name = zh_text()
    vendor_status = Keyword()
    family = Keyword()  # the same product from many vendors shares it (see family_key())
    status = Keyword()
    price = Double()
    in_stock = Boolean()
    sales_count = Integer()
    created_at = Date()
    updated_at = Date()
    indexed_at = Date()
    skus = Keyword(normalizer=code)
    codes = Keyword(normalizer=code)  # normalised SKUs (plugin code fields are matched too)
    # Whole names only (each input costs indexing time): later words of English names come
    # from a phrase-prefix query, categories and product types from their ids (see
    # taxonomy_matching) - "刹车" completes to brake pads whose names start with the brand.
    suggest_name = Completion(analyzer="simple", preserve_separators=True, max_input_length=60)

    class Meta:
        dynamic = MetaField(False)  # unknown fields are kept in _source, never guessed


class ShopDocument(Document):
    vendor_id = Long()
    slug = Keyword()
    kind = Keyword()
    status = Keyword()
    name_zh = zh_text(copy_to="text_all", fields={"raw": Keyword(ignore_above=256), "smart": Text(analyzer=zh_smart)})
    name_en = en_text_field(copy_to=["text_all", "text_en"])
    description_zh = zh_text()
    description_en = en_text_field()
    text_all = zh_text()
    text_en = en_text_field()
    # What the shop does: its kind ("汽车维修 repair shop"), the services plugins report and
    # the categories it sells in (both languages) - "汽修" and "保养" find repair shops.
    offers = zh_words(copy_to="text_all")
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
