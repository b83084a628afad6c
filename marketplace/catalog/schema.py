import graphene
from graphene import relay
from graphene.types.generic import GenericScalar
from graphene_django import DjangoObjectType

from marketplace.api.dataloaders import then
from marketplace.api.mutations import BaseMutation
from marketplace.api.pagination import ConnectionField, CountableConnection
from marketplace.api.types import decode_id, decode_ids, enum_value
from marketplace.core import permissions
from marketplace.core.errors import ErrorCode, MarketplaceError, NotFound
from marketplace.pricing.schema import Price
from marketplace.vendors.dataloaders import VendorByIdLoader
from marketplace.vendors.models import Vendor
from marketplace.vendors.permissions import ANY_STAFF, has_vendor_role, require_vendor_role, vendor_role
from marketplace.vendors.schema import VendorKindEnum, VendorType, WarehouseType
from search import fields as product_fields
from search.fields import mount_filter_inputs

from . import selectors, services
from .dataloaders import (
    AttributesByProductTypeIdLoader, AttributeValuesByProductIdLoader, AvailableByVariantIdLoader, BrandByIdLoader,
    PriceByVariantLoader, ProductByIdLoader, ProductTypeByIdLoader, StocksByVariantIdLoader,
    VariantsByProductIdLoader, available_units, explained_prices,
)
from .models import (
    Attribute, AttributeType, Brand, Category, Product, ProductStatus, ProductType, ProductVariant,
)

AttributeTypeEnum = graphene.Enum("AttributeInputType", [(k.name, k.value) for k in AttributeType])
ProductStatusEnum = graphene.Enum("ProductStatus", [(k.name, k.value) for k in ProductStatus])



class CategoryNode(DjangoObjectType):
    parent = graphene.Field(lambda: CategoryNode)
    children = graphene.List(graphene.NonNull(lambda: CategoryNode), required=True)

    class Meta:
        model = Category
        name = "Category"
        interfaces = (relay.Node,)
        fields = ("name_zh", "name_en", "slug", "position")

    @staticmethod
    def resolve_parent(root, info):
        return _category_tree(info).get(root.parent_id) if root.parent_id else None

    @staticmethod
    def resolve_children(root, info):
        return [c for c in _category_tree(info).values() if c.parent_id == root.pk]


def _category_tree(info):
    """All categories, read once per request (the tree is small)."""
    return selectors.category_tree(info.context)


def _descendants(info, category_ids):
    tree = _category_tree(info)
    wanted = set(category_ids)
    changed = True
    while changed:
        changed = False
        for category in tree.values():
            if category.parent_id in wanted and category.pk not in wanted:
                wanted.add(category.pk)
                changed = True
    return wanted


class BrandNode(DjangoObjectType):
    class Meta:
        model = Brand
        name = "Brand"
        interfaces = (relay.Node,)
        fields = ("name_zh", "name_en", "slug", "logo_url")


class AttributeNode(DjangoObjectType):
    input_type = graphene.Field(AttributeTypeEnum, required=True)
    choices = graphene.List(graphene.NonNull(graphene.String), required=True)

    class Meta:
        model = Attribute
        name = "Attribute"
        interfaces = (relay.Node,)
        fields = ("name_zh", "name_en", "slug", "unit")

    @staticmethod
    def resolve_input_type(root, info):
        return enum_value(root.input_type)


class ProductTypeNode(DjangoObjectType):
    attributes = graphene.List(graphene.NonNull(AttributeNode), required=True)

    class Meta:
        model = ProductType
        name = "ProductType"
        interfaces = (relay.Node,)
        fields = ("name_zh", "name_en", "slug")

    @staticmethod
    def resolve_attributes(root, info):
        return AttributesByProductTypeIdLoader.for_request(info).load(root.pk)


class AttributeValue(graphene.ObjectType):
    attribute = graphene.Field(AttributeNode, required=True)
    value = GenericScalar(required=True)


class ProductVariantNode(DjangoObjectType):
    product = graphene.Field(lambda: ProductNode,
                             description="Null when the product is not visible to the caller (e.g. back to draft).")
    price = graphene.Field(Price, required=True, description="The explained unit price for the caller.")
    available = graphene.Int(required=True, description="Units that can be bought now.")
    in_stock = graphene.Boolean(required=True)
    stocks = graphene.List(graphene.NonNull(lambda: StockNode), description="Per warehouse (vendor staff only).")
    cost_price = graphene.Decimal(description="Vendor staff only.")

    class Meta:
        model = ProductVariant
        name = "ProductVariant"
        interfaces = (relay.Node,)
        fields = ("sku", "name", "list_price", "sale_price", "currency", "weight_grams", "is_active")

    # One visibility rule, whatever path reaches a variant (marketplace.api.visibility).
    visibility_follows = ("Product",)  # `Product.variants` lists only what its product shows

    @classmethod
    def visible_to(cls, info, variant):
        user = permissions.current_user(info)
        decided = selectors.variant_visibility(variant, user)
        if decided is not None:
            return decided
        return then(ProductByIdLoader.for_request(info).load(variant.product_id),
                    lambda product: product is not None and bool(selectors.variant_visibility(variant, user, product)))

    @classmethod
    def filter_visible(cls, info, variants):
        return selectors.visible_variants(variants, permissions.current_user(info))

    @classmethod
    def get_node(cls, info, id):
        variant = ProductVariant.objects.select_related("product__vendor").filter(pk=id).first()
        if variant and selectors.variant_is_visible(variant, permissions.current_user(info)):
            return variant
        return None

    @staticmethod
    def resolve_product(root, info):
        cached = root._state.fields_cache.get("product")
        return cached if cached is not None else ProductByIdLoader.for_request(info).load(root.product_id)

    @staticmethod
    def resolve_price(root, info):
        page = _page(info)
        if root.pk not in page.prices and _page_holds(page, root):
            page.price_pending()
        if root.pk in page.prices:
            return page.prices[root.pk]
        return PriceByVariantLoader.for_request(info).load((root, root.product))

    @staticmethod
    def resolve_available(root, info):
        page = _page(info)
        if root.pk not in page.available and _page_holds(page, root):
            page.availability_pending()
        if root.pk in page.available:
            return page.available[root.pk]
        return AvailableByVariantIdLoader.for_request(info).load(root.pk)

    @classmethod
    def resolve_in_stock(cls, root, info):
        return then(cls.resolve_available(root, info), lambda n: n > 0)

    @staticmethod
    def resolve_stocks(root, info):
        if not has_vendor_role(permissions.current_user(info), root.vendor_id):
            return None
        return StocksByVariantIdLoader.for_request(info).load(root.pk)

    @staticmethod
    def resolve_cost_price(root, info):
        return root.cost_price if has_vendor_role(permissions.current_user(info), root.vendor_id) else None


class _Page:
    """Per-request store of page-prefetched data (see ProductNode.prefetch_page)."""

    def __init__(self, context):
        self.context = context
        self.variants_by_product = {}
        self.pending_variants = []
        self.prices = {}
        self.available = {}

    def price_pending(self):
        todo = [v for v in self.pending_variants if v.pk not in self.prices]
        self.prices.update(explained_prices(todo, getattr(self.context, "user", None)))

    def availability_pending(self):
        self.available.update(available_units([v.pk for v in self.pending_variants if v.pk not in self.available]))


def _page(info):
    page = getattr(info.context, "_catalog_page", None)
    if page is None:
        page = info.context._catalog_page = _Page(info.context)
    return page


def _page_holds(page, variant):
    return variant.product_id in page.variants_by_product


class StockNode(graphene.ObjectType):
    class Meta:
        name = "Stock"

    warehouse = graphene.Field(WarehouseType, required=True)
    quantity = graphene.Int(required=True)
    reserved = graphene.Int(required=True)
    available = graphene.Int(required=True)


def _attach_product(product):
    def attach(variants):
        for variant in variants:
            variant.product = product  # fills Django's relation cache: no query for variant.product
        return variants

    return attach


class ProductNode(DjangoObjectType):
    vendor = graphene.Field(VendorType, required=True)
    category = graphene.Field(CategoryNode, required=True)
    brand = graphene.Field(BrandNode)
    product_type = graphene.Field(ProductTypeNode, required=True)
    variants = graphene.List(graphene.NonNull(ProductVariantNode), required=True)
    attributes = graphene.List(graphene.NonNull(AttributeValue), required=True)
    images = graphene.List(graphene.NonNull(graphene.String), required=True)
    status = graphene.Field(ProductStatusEnum, required=True)
    in_stock = graphene.Boolean(required=True)
    min_price = graphene.Decimal(description="The lowest vendor price among variants (before platform rules).")

    class Meta:
        model = Product
        name = "Product"
        interfaces = (relay.Node,)
        fields = ("name_zh", "name_en", "slug", "description_zh", "description_en", "created_at", "updated_at",
                  "sales_count")
        connection_class = CountableConnection

    # One visibility rule, whatever path reaches a product (marketplace.api.visibility).
    @classmethod
    def visible_to(cls, info, product):
        user = permissions.current_user(info)
        decided = selectors.product_visibility(product, user)
        if decided is not None:
            return decided
        return then(VendorByIdLoader.for_request(info).load(product.vendor_id),
                    lambda vendor: bool(selectors.product_visibility(
                        product, user, vendor_status=selectors.listing_status(vendor) if vendor is not None else "")))

    @classmethod
    def filter_visible(cls, info, products):
        return selectors.visible_subset(products, permissions.current_user(info))

    @classmethod
    def get_node(cls, info, id):
        product = Product.objects.select_related("vendor").filter(pk=id).first()
        return product if product and selectors.product_is_visible(product, permissions.current_user(info)) else None

    @staticmethod
    def count_cache_key(queryset):
        """Listing counts are cached until the catalog changes (marketplace.catalog.cache).
        The key is the listing's arguments when the resolver marked the queryset with them
        (`_mark_count_key`, no SQL compiled); otherwise the queryset's SQL."""
        import hashlib

        from .cache import version

        marked = getattr(queryset.query, "count_key", None)
        if marked is not None and marked[1] is queryset.query.where:  # not narrowed since it was marked
            digest = marked[0]
        else:
            sql, params = queryset.query.sql_with_params()
            digest = hashlib.sha1(f"{sql}|{params}".encode()).hexdigest()
        return f"catalog:count:{version()}:{digest}"

    @staticmethod
    def prefetch_page(info, products):
        """Load what a page of products needs in a few queries, so per-product and
        per-variant resolvers return plain values."""
        page = _page(info)
        ids = [p.pk for p in products if p.pk not in page.variants_by_product]
        if not ids:
            return
        variants = ProductVariant.objects.filter(product_id__in=ids, is_active=True).order_by("position", "pk")
        from marketplace.api.selection import selected

        asked = selected(info, "edges", "node", "variants")
        if asked and asked <= VARIANT_KNOWN_FIELDS:
            variants = variants.defer("created_at")  # no known field reads it
        by_product = {pk: [] for pk in ids}
        products_by_id = {p.pk: p for p in products}
        for variant in variants:
            variant.product = products_by_id[variant.product_id]
            by_product[variant.product_id].append(variant)
            page.pending_variants.append(variant)
        page.variants_by_product.update(by_product)

    @staticmethod
    def resolve_status(root, info):
        return enum_value(root.status)

    @staticmethod
    def resolve_vendor(root, info):
        if "vendor" in root._state.fields_cache:
            return root.vendor
        return VendorByIdLoader.for_request(info).load(root.vendor_id)

    @staticmethod
    def resolve_category(root, info):
        return _category_tree(info).get(root.category_id)

    @staticmethod
    def resolve_brand(root, info):
        if "brand" in root._state.fields_cache:
            return root.brand
        return BrandByIdLoader.for_request(info).load(root.brand_id) if root.brand_id else None

    @staticmethod
    def resolve_product_type(root, info):
        if "product_type" in root._state.fields_cache:
            return root.product_type
        return ProductTypeByIdLoader.for_request(info).load(root.product_type_id)

    @staticmethod
    def resolve_variants(root, info):
        prefetched = _page(info).variants_by_product.get(root.pk)
        if prefetched is not None:
            return prefetched
        return then(VariantsByProductIdLoader.for_request(info).load(root.pk), _attach_product(root))

    @staticmethod
    def resolve_attributes(root, info):
        return then(AttributeValuesByProductIdLoader.for_request(info).load(root.pk),
                    lambda values: [AttributeValue(attribute=v.attribute, value=v.value) for v in values])


# -- listing ---------------------------------------------------------------------------
# Columns a listing reads only when the response asks for them (long texts, JSON). Other
# fields (a plugin's included) may read any column: a selection with a field outside the
# known ones loads every column.
PRODUCT_KNOWN_FIELDS = {"__typename", "id", "nameZh", "nameEn", "slug", "status", "createdAt", "updatedAt",
                        "salesCount", "inStock", "minPrice", "vendor", "category", "brand", "productType",
                        "variants", "attributes", "descriptionZh", "descriptionEn", "images"}
PRODUCT_HEAVY = {"descriptionZh": "description_zh", "descriptionEn": "description_en", "images": "images",
                 "updatedAt": "updated_at"}  # (timestamps cost a parse each; created_at may be the sort key)
VENDOR_KNOWN_FIELDS = {"__typename", "id", "nameZh", "nameEn", "slug", "logoUrl", "kind", "status", "phone",
                       "province", "city", "district", "street", "createdAt", "latitude", "longitude",
                       "descriptionZh", "descriptionEn", "openingHours", "isOpenNow"}
VENDOR_HEAVY = {"descriptionZh": ("description_zh",), "descriptionEn": ("description_en",),
                "openingHours": ("opening_hours",), "isOpenNow": ("opening_hours",), "createdAt": ("created_at",),
                "": ("approved_at", "updated_at")}  # "": columns no known field reads


VARIANT_KNOWN_FIELDS = {"__typename", "id", "sku", "name", "listPrice", "salePrice", "currency", "weightGrams",
                        "isActive", "price", "available", "inStock", "stocks", "costPrice", "product"}


def _listing_columns(info, qs):
    """Join and read what the page's selection needs: the vendor always (the visibility
    rule reads its status), the brand and product type when selected, long texts and
    JSON only when selected."""
    from marketplace.api.selection import selected

    fields = selected(info, "edges", "node")
    related = ["vendor"] + [name for name, field in (("brand", "brand"), ("product_type", "productType"))
                            if field in fields]
    qs = qs.select_related(*related)
    deferred = []
    if fields <= PRODUCT_KNOWN_FIELDS:
        deferred += [column for field, column in PRODUCT_HEAVY.items() if field not in fields]
    vendor_fields = selected(info, "edges", "node", "vendor")
    if vendor_fields <= VENDOR_KNOWN_FIELDS:
        wanted = {column for field in vendor_fields for column in VENDOR_HEAVY.get(field, ())}
        deferred += [f"vendor__{column}" for columns in VENDOR_HEAVY.values() for column in columns
                     if column not in wanted]
    return qs.defer(*dict.fromkeys(deferred)) if deferred else qs


def _mark_count_key(qs, filter):
    """Key the listing's cached count by its arguments (see ProductNode.count_cache_key).
    Plugin filters may depend on anything (the caller's garage, the time): their listings
    are keyed by their SQL instead."""
    import hashlib
    import json

    filter = dict(filter or {})
    if any(key not in CORE_FILTERS for key, value in filter.items() if value is not None):
        return qs
    arguments = json.dumps({k: v for k, v in filter.items() if v is not None}, sort_keys=True, default=str)
    qs.query.count_key = ("products:" + hashlib.sha1(arguments.encode()).hexdigest(), qs.query.where)
    return qs


class PriceRangeInput(graphene.InputObjectType):
    min = graphene.Decimal()
    max = graphene.Decimal()


class ProductFilterInput(graphene.InputObjectType):
    """Listing filters. Plugins add their own fields (e.g. `fitsVehicle`)."""

    categories = graphene.List(graphene.NonNull(graphene.ID), description="Includes subcategories.")
    brands = graphene.List(graphene.NonNull(graphene.ID))
    vendors = graphene.List(graphene.NonNull(graphene.ID))
    vendor_kind = VendorKindEnum()
    price = PriceRangeInput(description="On the vendor price (list or sale).")
    in_stock = graphene.Boolean()
    search = graphene.String(description="Simple name match; full search is `searchProducts`.")


# Plugins' filter inputs: one `ProductField` declaration each (`register_product_fields`).
mount_filter_inputs(ProductFilterInput)


class ProductSortField(graphene.Enum):
    NAME = "name"
    PRICE = "price"
    NEWEST = "newest"
    SALES = "sales"


class SortDirection(graphene.Enum):
    ASC = "asc"
    DESC = "desc"


class ProductSortInput(graphene.InputObjectType):
    field = ProductSortField(required=True)
    direction = SortDirection(default_value="asc")


# The core's own filter inputs: a listing filtered by nothing else has its count keyed by
# its arguments (`_mark_count_key`); plugin fields may depend on anything and are keyed by SQL.
CORE_FILTERS = {"categories", "brands", "vendors", "vendor_kind", "price", "in_stock", "search"}

SORT_COLUMNS = {"name": "name_zh", "price": "min_price", "newest": "created_at", "sales": "sales_count"}


_ids = decode_ids


def filter_products(info, qs, filter):
    filter = dict(filter or {})
    if filter.get("categories"):
        qs = qs.filter(category_id__in=_descendants(info, _ids(filter["categories"], CategoryNode, "categories")))
    if filter.get("brands"):
        qs = qs.filter(brand_id__in=_ids(filter["brands"], BrandNode, "brands"))
    if filter.get("vendors"):
        qs = qs.filter(vendor_id__in=_ids(filter["vendors"], VendorType, "vendors"))
    if filter.get("vendor_kind") is not None:
        qs = qs.filter(vendor__kind=enum_value(filter["vendor_kind"]))
    price = filter.get("price") or {}
    if price.get("min") is not None:
        qs = qs.filter(min_price__gte=price["min"])
    if price.get("max") is not None:
        qs = qs.filter(min_price__lte=price["max"])
    if filter.get("in_stock") is not None:
        qs = qs.filter(in_stock=filter["in_stock"])
    if filter.get("search"):
        from django.db.models import Q

        term = filter["search"].strip()
        qs = qs.filter(Q(name_zh__icontains=term) | Q(name_en__icontains=term))
    # Plugin fields (`register_product_fields`): PLUGIN_DISABLED while their plugin is off.
    return product_fields.apply_db_filters(qs, product_fields.requested(filter))


def sort_products(qs, sort_by):
    if not sort_by:
        return qs.order_by("pk")
    column = SORT_COLUMNS[enum_value(sort_by["field"])]
    descending = enum_value(sort_by.get("direction") or "asc") == "desc"
    from django.db.models import F

    expression = F(column).desc(nulls_last=True) if descending else F(column).asc(nulls_last=True)
    return qs.order_by(expression, "-pk" if descending else "pk")


class Query(graphene.ObjectType):
    categories = graphene.List(graphene.NonNull(CategoryNode), required=True, description="Top-level categories.")
    brands = graphene.List(graphene.NonNull(BrandNode), required=True)
    product_types = graphene.List(graphene.NonNull(ProductTypeNode), required=True)
    products = ConnectionField(ProductNode, filter=ProductFilterInput(), sort_by=ProductSortInput(),
                               description="Published products of approved vendors.")
    product = graphene.Field(ProductNode, id=graphene.ID(), vendor_slug=graphene.String(), slug=graphene.String(),
                             description="By ID, or by the vendor's slug and the product's slug.")
    vendor_products = ConnectionField(ProductNode, vendor_id=graphene.ID(required=True),
                                      status=ProductStatusEnum(), filter=ProductFilterInput(),
                                      description="A vendor's whole catalog, drafts included (its staff only).")
    storefront_categories = graphene.List(graphene.NonNull(CategoryNode), required=True,
                                          vendor_slug=graphene.String(required=True),
                                          description="Categories a vendor sells in.")

    @staticmethod
    def resolve_categories(root, info):
        return [c for c in _category_tree(info).values() if c.parent_id is None]

    @staticmethod
    def resolve_brands(root, info):
        return Brand.objects.order_by("slug")

    @staticmethod
    def resolve_product_types(root, info):
        return ProductType.objects.order_by("slug")

    @staticmethod
    def resolve_products(root, info, filter=None, sort_by=None, **kwargs):
        qs = filter_products(info, selectors.visible_products(), filter)
        qs = _listing_columns(info, sort_products(qs, sort_by))
        return _mark_count_key(qs, filter)

    @staticmethod
    def resolve_product(root, info, id=None, vendor_slug=None, slug=None):
        if id:
            product = Product.objects.select_related("vendor").filter(pk=decode_id(id, ProductNode)).first()
        elif vendor_slug and slug:
            product = Product.objects.select_related("vendor").filter(vendor__slug=vendor_slug, slug=slug).first()
        else:
            raise MarketplaceError("Give `id`, or `vendorSlug` and `slug`.", code=ErrorCode.REQUIRED, field="id")
        return product if product and selectors.product_is_visible(product, permissions.current_user(info)) else None

    @staticmethod
    def resolve_vendor_products(root, info, vendor_id, status=None, filter=None, **kwargs):
        pk = decode_id(vendor_id, VendorType, field="vendor_id")
        require_vendor_role(info, pk, ANY_STAFF)
        qs = Product.objects.filter(vendor_id=pk)
        if status is not None:
            qs = qs.filter(status=enum_value(status))
        return filter_products(info, qs, filter).order_by("pk")

    @staticmethod
    def resolve_storefront_categories(root, info, vendor_slug):
        ids = selectors.visible_products().filter(vendor__slug=vendor_slug).values_list("category_id", flat=True).distinct()
        tree = _category_tree(info)
        return [tree[i] for i in sorted(set(ids), key=lambda i: (tree[i].position, i))]


# -- mutations --------------------------------------------------------------------------
def _vendor_of(obj):
    return obj.vendor_id


def _products():
    return Product.objects.select_related("vendor", "product_type")


def _variants():
    return ProductVariant.objects.select_related("product__vendor")


class CategoryInput(graphene.InputObjectType):
    name_zh = graphene.String()
    name_en = graphene.String()
    slug = graphene.String()
    parent = graphene.ID()
    position = graphene.Int()


def _category_data(input):
    data = dict(input)
    if "parent" in data:
        data["parent_id"] = int(decode_id(data.pop("parent"), CategoryNode, "parent")) if input.parent else None
    return data


class CategoryCreate(BaseMutation):
    permission = permissions.platform_staff
    category = graphene.Field(CategoryNode)

    class Arguments:
        input = CategoryInput(required=True)

    @classmethod
    def perform(cls, info, input):
        return cls(category=services.save_category(_category_data(input)))


class CategoryUpdate(BaseMutation):
    permission = permissions.platform_staff
    category = graphene.Field(CategoryNode)

    class Arguments:
        id = graphene.ID(required=True)
        input = CategoryInput(required=True)

    @classmethod
    def perform(cls, info, id, input):
        category = Category.objects.filter(pk=decode_id(id, CategoryNode)).first()
        if category is None:
            raise NotFound("Category not found.", field="id")
        return cls(category=services.save_category(_category_data(input), category))


class CategoryDelete(BaseMutation):
    permission = permissions.platform_staff
    ok = graphene.Boolean()

    class Arguments:
        id = graphene.ID(required=True)

    @classmethod
    def perform(cls, info, id):
        category = Category.objects.filter(pk=decode_id(id, CategoryNode)).first()
        if category is None:
            raise NotFound("Category not found.", field="id")
        services.delete_category(category)
        return cls(ok=True)


class BrandInput(graphene.InputObjectType):
    name_zh = graphene.String()
    name_en = graphene.String()
    slug = graphene.String()
    logo_url = graphene.String()


class BrandCreate(BaseMutation):
    permission = permissions.platform_staff
    brand = graphene.Field(BrandNode)

    class Arguments:
        input = BrandInput(required=True)

    @classmethod
    def perform(cls, info, input):
        return cls(brand=services.save_brand(dict(input)))


class BrandUpdate(BaseMutation):
    permission = permissions.platform_staff
    brand = graphene.Field(BrandNode)

    class Arguments:
        id = graphene.ID(required=True)
        input = BrandInput(required=True)

    @classmethod
    def perform(cls, info, id, input):
        brand = Brand.objects.filter(pk=decode_id(id, BrandNode)).first()
        if brand is None:
            raise NotFound("Brand not found.", field="id")
        return cls(brand=services.save_brand(dict(input), brand))


class AttributeInput(graphene.InputObjectType):
    name_zh = graphene.String()
    name_en = graphene.String()
    slug = graphene.String()
    input_type = AttributeTypeEnum()
    unit = graphene.String()
    choices = graphene.List(graphene.NonNull(graphene.String))


class AttributeCreate(BaseMutation):
    permission = permissions.platform_staff
    attribute = graphene.Field(AttributeNode)

    class Arguments:
        input = AttributeInput(required=True)

    @classmethod
    def perform(cls, info, input):
        data = dict(input)
        if data.get("input_type") is not None:
            data["input_type"] = enum_value(data["input_type"])
        return cls(attribute=services.save_attribute(data))


class ProductTypeInput(graphene.InputObjectType):
    name_zh = graphene.String()
    name_en = graphene.String()
    slug = graphene.String()
    attributes = graphene.List(graphene.NonNull(graphene.ID))


class ProductTypeCreate(BaseMutation):
    permission = permissions.platform_staff
    product_type = graphene.Field(ProductTypeNode)

    class Arguments:
        input = ProductTypeInput(required=True)

    @classmethod
    def perform(cls, info, input):
        data = dict(input)
        if data.get("attributes") is not None:
            data["attribute_ids"] = _ids(data.pop("attributes"), AttributeNode, "attributes")
        return cls(product_type=services.save_product_type(data))


class ProductInput(graphene.InputObjectType):
    name_zh = graphene.String()
    name_en = graphene.String()
    slug = graphene.String()
    description_zh = graphene.String()
    description_en = graphene.String()
    category = graphene.ID()
    brand = graphene.ID()
    product_type = graphene.ID()
    images = graphene.List(graphene.NonNull(graphene.String))
    status = ProductStatusEnum()


def _product_data(input):
    data = dict(input)
    for field, node, key in (("category", CategoryNode, "category_id"), ("product_type", ProductTypeNode, "product_type_id")):
        if data.get(field) is not None:
            data[key] = int(decode_id(data.pop(field), node, field))
    if "brand" in data:
        brand = data.pop("brand")
        data["brand_id"] = int(decode_id(brand, BrandNode, "brand")) if brand else None
    if data.get("status") is not None:
        data["status"] = enum_value(data["status"])
    return data


class ProductCreate(BaseMutation):
    """Vendor staff add a product to their own vendor."""

    permission = vendor_role(ANY_STAFF, vendor_from="vendor_id")
    product = graphene.Field(ProductNode)

    class Arguments:
        vendor_id = graphene.ID(required=True)
        input = ProductInput(required=True)

    @classmethod
    def perform(cls, info, vendor_id, input):
        pk = decode_id(vendor_id, VendorType, field="vendor_id")
        vendor = Vendor.objects.get(pk=pk)
        return cls(product=services.save_product(vendor, _product_data(input)))


class ProductUpdate(BaseMutation):
    permission = vendor_role(ANY_STAFF, vendor_from=_vendor_of)
    lookup = ("id", ProductNode, _products)
    product = graphene.Field(ProductNode)

    class Arguments:
        id = graphene.ID(required=True)
        input = ProductInput(required=True)

    @classmethod
    def perform(cls, info, instance, id, input):
        return cls(product=services.save_product(instance.vendor, _product_data(input), instance))


class ProductDelete(BaseMutation):
    permission = vendor_role(ANY_STAFF, vendor_from=_vendor_of)
    lookup = ("id", ProductNode, _products)
    ok = graphene.Boolean()

    class Arguments:
        id = graphene.ID(required=True)

    @classmethod
    def perform(cls, info, instance, id):
        services.delete_product(instance)
        return cls(ok=True)


class ProductSetAttributes(BaseMutation):
    permission = vendor_role(ANY_STAFF, vendor_from=_vendor_of)
    lookup = ("id", ProductNode, _products)
    product = graphene.Field(ProductNode)

    class Arguments:
        id = graphene.ID(required=True)
        values = GenericScalar(required=True, description='{"attribute-slug": value, ...}; null removes a value.')

    @classmethod
    def perform(cls, info, instance, id, values):
        product = instance
        if not isinstance(values, dict):
            raise MarketplaceError("Give an object of attribute slugs to values.", field="values")
        return cls(product=services.set_attribute_values(product, values))


class VariantInput(graphene.InputObjectType):
    sku = graphene.String()
    name = graphene.String()
    list_price = graphene.String(description="Decimal string, e.g. \"199.00\".")
    sale_price = graphene.String()
    cost_price = graphene.String()
    weight_grams = graphene.Int()
    is_active = graphene.Boolean()


class ProductVariantCreate(BaseMutation):
    permission = vendor_role(ANY_STAFF, vendor_from=_vendor_of)
    lookup = ("product_id", ProductNode, _products)
    variant = graphene.Field(ProductVariantNode)

    class Arguments:
        product_id = graphene.ID(required=True)
        input = VariantInput(required=True)

    @classmethod
    def perform(cls, info, instance, product_id, input):
        return cls(variant=services.save_variant(instance, dict(input)))


class ProductVariantUpdate(BaseMutation):
    permission = vendor_role(ANY_STAFF, vendor_from=_vendor_of)
    lookup = ("id", ProductVariantNode, _variants)
    variant = graphene.Field(ProductVariantNode)

    class Arguments:
        id = graphene.ID(required=True)
        input = VariantInput(required=True)

    @classmethod
    def perform(cls, info, instance, id, input):
        return cls(variant=services.save_variant(instance.product, dict(input), instance))


class ProductVariantDelete(BaseMutation):
    permission = vendor_role(ANY_STAFF, vendor_from=_vendor_of)
    lookup = ("id", ProductVariantNode, _variants)
    ok = graphene.Boolean()

    class Arguments:
        id = graphene.ID(required=True)

    @classmethod
    def perform(cls, info, instance, id):
        services.delete_variant(instance)
        return cls(ok=True)


class StockSet(BaseMutation):
    """Set the units of a variant in one of the vendor's warehouses."""

    permission = vendor_role(ANY_STAFF, vendor_from=_vendor_of)
    lookup = ("variant_id", ProductVariantNode, _variants)
    variant = graphene.Field(ProductVariantNode)

    class Arguments:
        variant_id = graphene.ID(required=True)
        warehouse_id = graphene.ID(required=True)
        quantity = graphene.Int(required=True)

    @classmethod
    def perform(cls, info, instance, variant_id, warehouse_id, quantity):
        services.set_stock(instance, decode_id(warehouse_id, WarehouseType, field="warehouse_id"), quantity)
        return cls(variant=instance)


class ImportError_(graphene.ObjectType):
    class Meta:
        name = "ProductImportError"

    row = graphene.Int(required=True)
    field = graphene.String()
    code = graphene.String(required=True)
    message = graphene.String(required=True)


class ProductImportCsv(BaseMutation):
    """Create or update products from CSV (one row per variant; see docs/catalog.md).
    Each product imports whole or not at all; errors name the CSV row."""

    permission = vendor_role(ANY_STAFF, vendor_from="vendor_id")
    created = graphene.Int()
    updated = graphene.Int()
    row_errors = graphene.List(graphene.NonNull(ImportError_))

    class Arguments:
        vendor_id = graphene.ID(required=True)
        csv = graphene.String(required=True, description="The CSV text, UTF-8, with a header row.")

    @classmethod
    def perform(cls, info, vendor_id, csv):
        pk = decode_id(vendor_id, VendorType, field="vendor_id")
        if len(csv.encode()) > 5_000_000:
            raise MarketplaceError("At most 5 MB per import; split the file.", code=ErrorCode.LIMIT_EXCEEDED, field="csv")
        result = services.import_products_csv(Vendor.objects.get(pk=pk), csv)
        from marketplace.api.errors import camel

        return cls(created=result["created"], updated=result["updated"],
                   row_errors=[ImportError_(row=e["row"], field=camel(e["field"]) if e["field"] else None,
                                            code=e["code"], message=e["message"]) for e in result["errors"]])


class Mutation(graphene.ObjectType):
    category_create = CategoryCreate.Field()
    category_update = CategoryUpdate.Field()
    category_delete = CategoryDelete.Field()
    brand_create = BrandCreate.Field()
    brand_update = BrandUpdate.Field()
    attribute_create = AttributeCreate.Field()
    product_type_create = ProductTypeCreate.Field()
    product_create = ProductCreate.Field()
    product_update = ProductUpdate.Field()
    product_delete = ProductDelete.Field()
    product_set_attributes = ProductSetAttributes.Field()
    product_variant_create = ProductVariantCreate.Field()
    product_variant_update = ProductVariantUpdate.Field()
    product_variant_delete = ProductVariantDelete.Field()
    stock_set = StockSet.Field()
    product_import_csv = ProductImportCsv.Field()

