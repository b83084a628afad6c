"""What the GraphQL layer asks a backend, and what a backend answers. Plain data: the
contract both backends implement (tests/test_search_contract.py runs it on both)."""
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum

from .text import ParsedQuery

# Price buckets for the `priceRanges` facet, in the platform currency (CNY): [from, to).
PRICE_BUCKETS = (
    (Decimal("0"), Decimal("100")),
    (Decimal("100"), Decimal("300")),
    (Decimal("300"), Decimal("1000")),
    (Decimal("1000"), None),
)
# Elasticsearch's default index.max_result_window; both backends page within it.
MAX_WINDOW = 10_000


class Sort(str, Enum):
    RELEVANCE = "relevance"
    PRICE_ASC = "price_asc"
    PRICE_DESC = "price_desc"
    NEWEST = "newest"
    SALES = "sales"


class ShopSort(str, Enum):
    """Orders of shop search. DEFAULT: nearest first with `near`, else best text match,
    else by id. NEXT_FREE_SLOT: the shop that can take a car soonest first, read from the
    shop document field `next_free_slot` (an aware datetime a booking plugin fills through
    `search_shop_fields`); shops without one last, then by distance / id."""

    DEFAULT = "default"
    NEXT_FREE_SLOT = "next_free_slot"


# The shop document field NEXT_FREE_SLOT sorts on (contributed by a plugin, mapped as a Date).
NEXT_FREE_SLOT_FIELD = "next_free_slot"


class Capability(str, Enum):
    """Things a backend may not do; listed in a result's `unsupported` notes."""

    TYPO_TOLERANCE = "typo_tolerance"
    RELEVANCE_RANKING = "relevance_ranking"
    WORD_SEGMENTATION = "word_segmentation"
    SCALE = "scale"


@dataclass(frozen=True)
class Unsupported:
    capability: Capability
    message: str


# Facet dimensions. A facet's counts ignore its own filter (multi-select facets).
FACETS = ("category", "brand", "vendor_kind", "in_stock")


@dataclass
class ProductFilters:
    category_ids: list = field(default_factory=list)  # descendants included by the backend
    brand_ids: list = field(default_factory=list)
    vendor_ids: list = field(default_factory=list)
    vendor_kind: str | None = None
    price_min: Decimal | None = None
    price_max: Decimal | None = None
    in_stock: bool | None = None
    # Plugin fields (`register_product_fields`): the client's whole filter input (snake_case
    # keys) and the declared fields it sets, cleaned (search.fields.requested; computed
    # from `raw` when None).
    raw: dict = field(default_factory=dict)
    requested: list | None = None

    def plugin_requests(self):
        from .fields import requested

        if self.requested is None:
            self.requested = requested(self.raw)
        return self.requested


@dataclass
class ProductQuery:
    parsed: ParsedQuery
    filters: ProductFilters = field(default_factory=ProductFilters)
    sort: Sort = Sort.RELEVANCE
    offset: int = 0
    limit: int = 20
    context: object = None  # the request
    facets: bool = True  # facets and price ranges (computed only when the client asks)
    highlight: bool = True
    # One result per product family (the same product from many vendors: its best-ranked
    # offer) unless `all_offers`; `offer_counts` also counts each family's offers.
    all_offers: bool = False
    offer_counts: bool = False


@dataclass
class FacetValue:
    key: object  # category/brand id, vendor kind value, True/False
    count: int


@dataclass
class PriceBucket:
    min: Decimal | None
    max: Decimal | None
    count: int


@dataclass
class ProductHit:
    id: int
    score: float | None = None
    highlights: dict = field(default_factory=dict)  # field name -> [snippets]
    offers: int | None = None  # offers of its family among the results (when counted)


@dataclass
class ProductResult:
    hits: list
    total: int
    facets: dict = field(default_factory=dict)  # facet name -> [FacetValue]
    price_ranges: list = field(default_factory=list)
    unsupported: list = field(default_factory=list)


@dataclass
class ShopQuery:
    text: str = ""
    parsed: ParsedQuery | None = None
    kind: str | None = None
    lat: float | None = None
    lon: float | None = None
    radius_km: float | None = None
    open_now: bool | None = None
    services: list = field(default_factory=list)
    offset: int = 0
    limit: int = 20
    now: object = None  # an aware datetime
    sort: str = ShopSort.DEFAULT.value


@dataclass
class ShopHit:
    id: int
    distance_km: float | None = None
    score: float | None = None


@dataclass
class ShopResult:
    hits: list
    total: int
    unsupported: list = field(default_factory=list)


@dataclass
class Suggestion:
    kind: str  # "product" | "brand" | "shop"
    id: int
    text: str


@dataclass
class Suggestions:
    products: list = field(default_factory=list)
    brands: list = field(default_factory=list)
    shops: list = field(default_factory=list)
    unsupported: list = field(default_factory=list)


@dataclass
class IndexOutcome:
    """What one bulk write did. `failed` maps object ids to the reason the index gave."""

    indexed: int = 0
    deleted: int = 0
    failed: dict = field(default_factory=dict)
    failed_shops: dict = field(default_factory=dict)  # by vendor id (reindex_vendor)

    def merge(self, other):
        self.indexed += other.indexed
        self.deleted += other.deleted
        self.failed.update(other.failed)
        self.failed_shops.update(other.failed_shops)
        return self
