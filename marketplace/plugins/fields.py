"""Product fields a plugin declares once: `ProductField`, returned by the
`register_product_fields` hook (see docs/plugins.md#register_product_fields).

One declaration gives the engine everything it needs to make a plugin's product data
filterable and searchable everywhere: the GraphQL filter inputs (added to
`ProductFilterInput` and `SearchFilterInput`), the listing filter, the filter of both
search backends, the search document's field and its values, and exact code matches.
The engine decides which callable applies where; a plugin never sees a backend name.

    from elasticsearch.dsl import Keyword, Q
    from marketplace.plugins.fields import ProductField

    ProductField(
        name="part_numbers",                                 # the search document field
        es_mapping=Keyword(normalizer="code"),               # its Elasticsearch mapping
        values=numbers_by_product,                           # [Product] -> {product_id: value}
        graphql_input={"part_number": graphene.String()},    # filter inputs (snake_case names)
        clean=clean_part_number,                             # {input: raw} -> {input: clean}
        db_filter=lambda qs, f: with_number(qs, f["part_number"]),       # QuerySet filter
        es_filter=lambda f: Q("term", part_numbers=f["part_number"]),    # Elasticsearch filter
        code_match=True,                                     # values are normalised codes
    )
"""
from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass(frozen=True)
class ProductField:
    """One product field of a plugin.

    - `name`: the search document field (snake_case; must not clash with core fields or
      another plugin's). Changing its mapping needs `manage.py search_index rebuild`.
    - `es_mapping`: an `elasticsearch.dsl` field (`Keyword(normalizer="code")`, `Long()`,
      `Text(analyzer="zh_text")` ...; the index defines the normalizer `code` and the
      analyzers `latin`, `zh_text`, `zh_smart`, `en_text`).
    - `values(products)`: values for a batch of visible `Product`s (vendor, brand and
      category loaded) -> `{product_id: value}`; one query per batch. A missing product
      gets no value. Called for every installed plugin, active or not (switching a
      plugin off and on needs no reindex). Values the mapping refuses fail that document:
      it is retried and reported, never dropped silently.
    - `graphql_input`: `{input_name: graphene input}` (e.g. `{"fits_vehicle":
      graphene.ID()}`) added to `ProductFilterInput` and `SearchFilterInput`. While the
      plugin is disabled these inputs answer `PLUGIN_DISABLED`.
    - `clean(inputs)`: validates and converts the inputs the client set (a dict of this
      field's input names; only called when one is set) once per request, before either
      filter; raise `marketplace.plugins.ValidationError` (field + code) for bad input.
      Default: the inputs unchanged.
    - `db_filter(queryset, inputs)`: narrows a `Product` queryset (listings, and search
      on the database backend); returns the queryset.
    - `es_filter(inputs)`: an `elasticsearch.dsl` query (or a list of them, or None)
      over this field, ANDed into the search on Elasticsearch. A field with inputs but
      no `es_filter` refuses its filter in search on Elasticsearch (`INVALID`).
    - `code_match`: the values are normalised codes (part/OE numbers: NFKC, no spaces,
      hyphens, dots, slashes, underscores, upper case). A search text that looks like a
      code and equals one of them ranks that product first, on both backends.
    """

    name: str
    es_mapping: Any
    values: Callable[[list], dict]
    graphql_input: dict = field(default_factory=dict)
    clean: Callable[[dict], dict] | None = None
    db_filter: Callable[[Any, dict], Any] | None = None
    es_filter: Callable[[dict], Any] | None = None
    code_match: bool = False

    def __post_init__(self):
        if not self.name or not self.name.replace("_", "").isalnum() or self.name != self.name.lower():
            raise ValueError(f"ProductField name {self.name!r}: use snake_case letters and digits")
        if self.graphql_input and self.db_filter is None:
            raise ValueError(f"ProductField {self.name!r} has GraphQL inputs but no db_filter: listings could not "
                             f"apply them")


__all__ = ["ProductField"]
