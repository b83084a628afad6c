"""The interface every search backend implements."""
from ..query import (  # noqa: F401  (re-exported for backend authors)
    IndexOutcome, ProductQuery, ProductResult, ShopQuery, ShopResult, Suggestions,
)


class SearchBackend:
    """One search engine. Methods take and return the plain data of search.query.

    Backends that keep an index (`keeps_index = True`) are fed by the indexing tasks;
    the others read the database at query time and their index methods do nothing."""

    name = "base"
    keeps_index = False

    # -- indexing -------------------------------------------------------------------
    def index_products(self, ids, refresh=False) -> IndexOutcome:
        """(Re-)index these products: visible ones are written, the others (drafts,
        suspended vendors, deleted rows) removed."""
        return IndexOutcome()

    def remove_products(self, ids, refresh=False) -> IndexOutcome:
        return IndexOutcome()

    def index_shops(self, vendor_ids, refresh=False) -> IndexOutcome:
        """(Re-)index these vendors' shop documents (approved ones; others removed)."""
        return IndexOutcome()

    def reindex_vendor(self, vendor_id, refresh=False) -> IndexOutcome:
        """A vendor changed (approved, suspended, closed, profile): its shop document
        and every product of it."""
        return IndexOutcome()

    def rebuild(self, progress=None, chunk_size=1000) -> dict:
        """Build fresh indices from the database and switch to them atomically."""
        return {}

    def optimize(self) -> dict:
        """Reorganise what the backend keeps for faster reading (a maintenance task, run
        nightly and after a rebuild): {"seconds": float, ...}; nothing by default."""
        return {}

    def status(self) -> dict:
        """Counts and lag, for `manage.py search_index status`."""
        return {"backend": self.name}

    # -- queries --------------------------------------------------------------------
    def search_products(self, query: ProductQuery) -> ProductResult:
        raise NotImplementedError

    def suggest(self, prefix, limit=5) -> Suggestions:
        raise NotImplementedError

    def search_shops(self, query: ShopQuery) -> ShopResult:
        raise NotImplementedError
