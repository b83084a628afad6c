"""The Elasticsearch index follows the database: through a real Celery worker (Redis),
with alias swaps for rebuilds, and refused documents retried and reported; and the
database backend's rows follow commits without a task.

Under CI a missing ELASTICSEARCH_URL fails the Elasticsearch tests; without CI they skip.
"""
import io
import itertools
import time
import uuid

import pytest
from django.core.management import call_command
from django.db import connection
from elasticsearch.dsl import Integer

from marketplace.catalog.models import Product
from marketplace.plugins.hookspecs import hookimpl
from tests.conftest import GraphQLClient, gid, unavailable, wait_for

RUN = uuid.uuid4().hex[:8]
_numbers = itertools.count()

SEARCH = """query($q: String) { searchProducts(query: $q, first: 50) { totalCount edges { node { slug nameZh } } } }"""
SHOPS = """query($q: String) { searchShops(query: $q) { totalCount edges { node { slug } } } }"""
SUSPEND = """mutation($id: ID!) { vendorSuspend(id: $id, reason: "Counterfeit parts") { errors { code } } }"""
IMPORT = """mutation($v: ID!, $csv: String!) { productImportCsv(vendorId: $v, csv: $csv) { created errors { code } } }"""


@pytest.fixture
def es(settings):
    from search.backends import get_backend

    if not settings.ELASTICSEARCH_URL:
        unavailable("ELASTICSEARCH_URL not set (developer run without services)",
                    "ELASTICSEARCH_URL is not set under CI: search indexing must be tested")
    settings.SEARCH_BACKEND = "elasticsearch"
    settings.SEARCH_INDEX_PREFIX = f"test-{RUN}-ix{next(_numbers)}-"
    settings.SEARCH_INDEX_RETRY_BASE_SECONDS = 0.1
    backend = get_backend()
    yield backend
    for index in backend.all_indices():
        backend.client.indices.delete(index=index, ignore_unavailable=True)


class quietly:
    """Create test data without feeding the Elasticsearch index (with the database backend
    configured, events write that backend's rows at commit, never a task), so that no
    task of the set-up races with what a test observes."""

    def __init__(self, settings):
        self.settings = settings

    def __enter__(self):
        self.backend = self.settings.SEARCH_BACKEND
        self.settings.SEARCH_BACKEND = "database"

    def __exit__(self, *exc):
        self.settings.SEARCH_BACKEND = self.backend


@pytest.fixture
def real_worker(worker, settings):
    """A Celery worker consuming from Redis (CI always has one; a developer run without
    Redis executes tasks eagerly, which proves nothing about queues and retries)."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        unavailable("no Redis: Celery runs eagerly (developer run without services)",
                    "Celery runs eagerly under CI: REDIS_URL must be set")
    return worker


def total(gql, text):
    return gql.data(SEARCH, {"q": text})["searchProducts"]["totalCount"]


def vendor_doc_count(es, vendor_id):
    es.client.indices.refresh(index=es.alias("products"))
    return es.client.count(index=es.alias("products"), query={"term": {"vendor_id": vendor_id}})["count"]


class FlakyFields:
    """A plugin whose field value the mapping refuses (a string for an integer) for the
    products in `bad` - `bad_once` only on the first attempt."""

    def __init__(self):
        self.bad = set()
        self.bad_once = set()
        self.calls = {}
        self.failure_recorded_before_retry = False

    @hookimpl
    def register_product_fields(self):
        from marketplace.plugins.fields import ProductField

        return [ProductField(name="stub_rank", es_mapping=Integer(), values=self.values)]

    def values(self, products):
        from search.models import IndexingFailure

        out = {}
        for product in products:
            self.calls[product.pk] = self.calls.get(product.pk, 0) + 1
            if product.pk in self.bad_once and self.calls[product.pk] > 1:
                if IndexingFailure.objects.filter(kind="product", object_id=product.pk).exists():
                    self.failure_recorded_before_retry = True
            refused = product.pk in self.bad or (product.pk in self.bad_once and self.calls[product.pk] == 1)
            out[product.pk] = "not-a-number" if refused else 7
        return out


@pytest.fixture
def flaky_plugin():
    from marketplace.plugins.testing import register_plugin

    stub = FlakyFields()
    with register_plugin(stub, f"search_flaky_{uuid.uuid4().hex[:6]}"):
        yield stub


# -- incremental, through a real worker ------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_suspended_vendor_leaves_search_within_seconds(es, real_worker, gql, staff_gql, make_vendor, make_product):
    es.rebuild()  # empty live indices, as right after a deployment
    vendor = make_vendor("suda-parts", name_zh="速达汽配", name_en="Suda Parts", latitude="39.9", longitude="116.4")
    for number in range(3):
        make_product(vendor, f"suda-pads-{number}", f"速达刹车片{number}号", name_en=f"Suda brake pads {number}")
    # The worker indexes what the services committed (events -> batched tasks -> bulk).
    wait_for(lambda: total(gql, "速达") == 3, timeout=20, message="the worker to index the products")
    wait_for(lambda: gql.data(SHOPS, {"q": "速达"})["searchShops"]["totalCount"] == 1, timeout=20,
             message="the worker to index the shop")
    started = time.monotonic()
    assert staff_gql.mutate(SUSPEND, {"id": gid("Vendor", vendor.pk)}) == {"errors": []}
    wait_for(lambda: total(gql, "速达") == 0, timeout=10, message="the suspended vendor's products to leave")
    elapsed = time.monotonic() - started
    assert elapsed < 5, f"took {elapsed:.1f}s"
    assert vendor_doc_count(es, vendor.pk) == 0  # removed from the index, not merely hidden when loading
    wait_for(lambda: gql.data(SHOPS, {"q": "速达"})["searchShops"]["totalCount"] == 0, timeout=10,
             message="the suspended shop to leave")
    print(f"suspended vendor's products left search in {elapsed:.2f}s")


@pytest.mark.django_db(transaction=True)
def test_renamed_brand_and_direct_model_edits_reach_the_index(es, real_worker, gql, staff_gql, make_vendor, make_product,
                                                              taxonomy):
    """Changes made outside the catalog services - a brand renamed by staff, a product
    saved directly (e.g. in the Django admin) - are indexed too."""
    es.rebuild()
    vendor = make_vendor("rename-parts")
    product = make_product(vendor, "rename-pads", "改名刹车片", brand=taxonomy.mobil)
    wait_for(lambda: total(gql, "改名刹车片") == 1, timeout=20, message="the product to be indexed")
    rename = """mutation($id: ID!) { brandUpdate(id: $id, input: {nameEn: "Mobil Super"}) { errors { code } } }"""
    assert staff_gql.mutate(rename, {"id": gid("Brand", taxonomy.mobil.pk)}) == {"errors": []}
    wait_for(lambda: total(gql, "mobil super") == 1, timeout=20, message="the renamed brand to be indexed")
    Product.objects.get(pk=product.pk).save()  # no event; the model signal covers it
    product.name_zh = "直接改名刹车片"
    product.save()
    wait_for(lambda: total(gql, "直接改名") == 1, timeout=20, message="a direct model edit to be indexed")


@pytest.mark.django_db(transaction=True)
def test_one_request_sends_one_indexing_task(es, real_worker, client, make_vendor, taxonomy):
    """A CSV import of three products in one request: one `index_products` task."""
    from celery.signals import before_task_publish

    es.rebuild()
    vendor = make_vendor("batch-parts", name_zh="批量汽配")
    owner = GraphQLClient(client)
    owner.login(vendor.owner.email)
    published = []

    def record(sender=None, body=None, **kwargs):
        if sender == "search.tasks.index_products":
            published.append(body[0][0])

    before_task_publish.connect(record, weak=False)
    try:
        csv = "product_slug,name_zh,category,product_type,status,sku,list_price,quantity\n" + "".join(
            f"batch-{n},批量刹车片{n},brake-pads,part,published,BT-{n},{100 + n}.00,5\n" for n in range(3))
        assert owner.mutate(IMPORT, {"v": gid("Vendor", vendor.pk), "csv": csv}) == {"created": 3, "errors": []}
    finally:
        before_task_publish.disconnect(record)
    ids = sorted(Product.objects.filter(vendor=vendor).values_list("pk", flat=True))
    assert published == [ids]
    wait_for(lambda: total(GraphQLClient(client), "批量") == 3, timeout=20, message="the batch to be indexed")


@pytest.mark.django_db(transaction=True)
def test_refused_document_is_retried_then_indexed(es, real_worker, settings, flaky_plugin, make_vendor, make_product):
    from marketplace.catalog import services as catalog
    from search.models import IndexingFailure
    from search.tasks import index_products

    with quietly(settings):
        vendor = make_vendor("flaky-parts")
        product = make_product(vendor, "flaky-pads", "易错刹车片")
    es.rebuild()
    flaky_plugin.bad_once.add(product.pk)
    flaky_plugin.calls.clear()
    with quietly(settings):
        catalog.save_product(vendor, {"name_zh": "易错刹车片 新版"}, product)
    result = index_products.delay([product.pk])  # what the event subscriber sends for this change

    def indexed():
        es.client.indices.refresh(index=es.alias("products"))
        source = es.client.get(index=es.alias("products"), id=product.pk)["_source"]
        return source["name_zh"] == "易错刹车片 新版" and source.get("stub_rank") == 7

    wait_for(indexed, timeout=20, message="the refused document to be retried and indexed")
    assert result.get(timeout=10) == {"backend": "elasticsearch", "indexed": 1, "deleted": 0}
    assert flaky_plugin.calls[product.pk] == 2
    assert flaky_plugin.failure_recorded_before_retry  # reported while it was failing
    wait_for(lambda: not IndexingFailure.objects.exists(), timeout=5, message="the failure record to clear")


@pytest.mark.django_db(transaction=True)
def test_permanently_refused_document_is_reported_never_dropped(es, real_worker, settings, flaky_plugin, make_vendor,
                                                                make_product):
    from search.models import IndexingFailure
    from search.tasks import index_products

    settings.SEARCH_INDEX_MAX_RETRIES = 2
    with quietly(settings):
        vendor = make_vendor("broken-parts")
        good = make_product(vendor, "good-pads", "好刹车片")
        bad = make_product(vendor, "bad-pads", "坏刹车片")
    es.rebuild()
    flaky_plugin.bad.add(bad.pk)
    result = index_products.delay([good.pk, bad.pk])
    wait_for(lambda: result.state == "FAILURE", timeout=30, message="the task to give up")
    assert "could not be indexed" in str(result.result)
    failure = IndexingFailure.objects.get()
    assert (failure.kind, failure.object_id, failure.attempts) == ("product", bad.pk, 3)
    assert "document_parsing_exception" in failure.error or "stub_rank" in failure.error
    # The good document of the same batch was indexed; the refused one is reported.
    es.client.indices.refresh(index=es.alias("products"))
    assert es.client.get(index=es.alias("products"), id=good.pk)["_source"]["stub_rank"] == 7
    out = io.StringIO()
    call_command("search_index", "status", stdout=out)
    assert "failures: 1 document(s)" in out.getvalue() and "OUT OF SYNC" in out.getvalue()
    # Once the cause is fixed, the beat task (or `search_index retry-failures`) catches up.
    flaky_plugin.bad.clear()
    call_command("search_index", "retry-failures", stdout=io.StringIO())
    wait_for(lambda: not IndexingFailure.objects.exists(), timeout=20, message="the retry to succeed")


# -- rebuild -------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_rebuild_swaps_the_alias_and_the_old_index_serves_until_then(es, gql, make_vendor, make_product):
    vendor = make_vendor("swap-parts")
    products = [make_product(vendor, f"swap-{n}", f"换装刹车片{n}") for n in range(5)]
    old = es.rebuild()["products"]["index"]
    alias, building = es.alias("products"), es.building_alias("products")
    seen = []

    def progress(kind, done, total_count, elapsed):
        if done == 0:
            return
        # Mid-build: the alias still points at the old index, which answers every query.
        assert es.indices_behind(alias) == [old]
        (new,) = es.indices_behind(building)
        assert new != old
        seen.append((done, total(gql, "换装")))
        es.client.indices.refresh(index=new)  # a segment per chunk, as a large bulk load leaves many
        if done == 2:
            # A change while the rebuild runs (to a product it has already copied) reaches
            # both the live index and the one being built.
            Product.objects.filter(pk=products[0].pk).update(name_zh="换装刹车片 改名")
            assert es.index_products([products[0].pk], refresh=True).failed == {}

    result = es.rebuild(progress=progress, chunk_size=2, kinds=("products",))["products"]
    assert [done for done, _ in seen] == [2, 4, 5]
    assert all(count == 5 for _, count in seen)
    assert result["replaced"] == [old] and result["documents"] == 5
    assert es.indices_behind(alias) == [result["index"]]
    assert es.indices_behind(building) == []
    assert not es.client.indices.exists(index=old)
    renamed = gql.data(SEARCH, {"q": "改名"})["searchProducts"]["edges"]
    assert [e["node"]["slug"] for e in renamed] == ["swap-0"]
    # The chunks left three segments; the index went live force-merged into one.
    assert result["merge_seconds"] >= 0 and result["per_second"] > 0
    segments = es.client.indices.segments(index=result["index"])["indices"][result["index"]]["shards"]["0"]
    assert [len(copy["segments"]) for copy in segments] == [1]


@pytest.mark.django_db
def test_failed_rebuild_leaves_the_live_index_untouched(es, gql, flaky_plugin, make_vendor, make_product):
    from search.backends.elasticsearch import RebuildError

    vendor = make_vendor("keep-parts")
    products = [make_product(vendor, f"keep-{n}", f"保留刹车片{n}") for n in range(3)]
    live = es.rebuild()["products"]["index"]
    flaky_plugin.bad.add(products[1].pk)
    with pytest.raises(RebuildError, match="1 products documents were refused"):
        es.rebuild(kinds=("products",))
    assert es.indices_behind(es.alias("products")) == [live]
    assert es.indices_behind(es.building_alias("products")) == []
    assert total(gql, "保留") == 3
    assert sorted(es.all_indices()) == sorted([live, *es.indices_behind(es.alias("shops"))])


@pytest.mark.django_db
def test_search_index_command(es, make_vendor, make_product):
    vendor = make_vendor("cmd-parts")
    make_product(vendor, "cmd-pads", "命令刹车片")
    out, err = io.StringIO(), io.StringIO()
    call_command("search_index", "rebuild", stdout=out, stderr=err)
    assert "products: 1 documents into" in out.getvalue() and "shops: 1 documents" in out.getvalue()
    assert "docs/s" in err.getvalue() and "1/1" in err.getvalue()  # the progress bar
    status = io.StringIO()
    call_command("search_index", "status", stdout=status)
    text = status.getvalue()
    assert "database (visible): 1   index documents: 1" in text and "status: in sync" in text
    assert "lag: 0.0s" in text


@pytest.mark.django_db
def test_first_write_before_any_rebuild_creates_an_empty_index_behind_the_alias(es, gql, make_vendor, make_product):
    vendor = make_vendor("first-parts")
    product = make_product(vendor, "first-pads", "首发刹车片")
    assert es.indices_behind(es.alias("products")) == []
    assert total(gql, "首发") == 0  # no index yet: an empty answer, not an error
    assert es.index_products([product.pk], refresh=True).indexed == 1
    assert es.indices_behind(es.alias("products")) == [f"{es.prefix}products-v0"]
    assert total(gql, "首发") == 1
    # Never an index auto-created under the alias's name with guessed mappings.
    mapping = es.client.indices.get_mapping(index=es.alias("products"))[f"{es.prefix}products-v0"]["mappings"]
    assert mapping["properties"]["codes"]["normalizer"] == "code"


# -- the database backend keeps rows of its own, written at commit --------------------------
@pytest.mark.django_db(transaction=True)
def test_database_backend_rows_follow_commits_and_the_command(settings, gql, staff_gql, make_vendor, make_product):
    """No task, no lag: the unit of work's batch is written when it commits; a vendor's
    suspension hides its products in one statement; `search_index` rebuilds and reports
    the rows."""
    from search.backends import get_backend
    from search.models import ProductSearchRow

    settings.SEARCH_BACKEND = "database"
    vendor = make_vendor("rows-parts", name_zh="行汽配")
    product = make_product(vendor, "rows-pads", "行刹车片", name_en="Row brake pads")
    Product.objects.filter(pk=product.pk).update(description_en="Fits the Sylphy")
    get_backend().index_products([product.pk])

    def facts():
        """The row's visibility, kind and price - and, on PostgreSQL, the same in the text
        tables a search reads."""
        row = ProductSearchRow.objects.get(product_id=product.pk)
        found = {(row.visible, row.vendor_kind, row.price)}
        if connection.vendor == "postgresql":
            from search.models import ProductSearchDescription, ProductSearchMatch

            for model in (ProductSearchMatch, ProductSearchDescription):
                text = model.objects.get(pk=product.pk)
                found.add((text.visible, text.vendor_kind, text.price))
        return found

    assert facts() == {(True, "parts_vendor", product.min_price)}
    assert total(gql, "行刹车片") == 1 and total(gql, "row brake pads") == 1 and total(gql, "sylphy") == 1
    assert staff_gql.mutate(SUSPEND, {"id": gid("Vendor", vendor.pk)}) == {"errors": []}
    assert facts() == {(False, "parts_vendor", product.min_price)}
    assert total(gql, "行刹车片") == 0 and total(gql, "sylphy") == 0
    from marketplace.vendors import services as vendors

    vendors.approve(vendor.pk)  # reinstated: visible again, at commit
    assert facts() == {(True, "parts_vendor", product.min_price)} and total(gql, "行刹车片") == 1
    get_backend().remove_products([product.pk])
    assert facts() == {(False, "parts_vendor", product.min_price)} and total(gql, "sylphy") == 0
    out, err = io.StringIO(), io.StringIO()
    call_command("search_index", "rebuild", stdout=out, stderr=err)
    assert "products: 1 documents into search_productsearchrow" in out.getvalue()
    assert facts() == {(True, "parts_vendor", product.min_price)} and total(gql, "sylphy") == 1
    status = io.StringIO()
    call_command("search_index", "status", stdout=status)
    assert "table search_productsearchrow" in status.getvalue() and "status: in sync" in status.getvalue()
    optimized = io.StringIO()
    call_command("search_index", "optimize", stdout=optimized)
    if connection.vendor == "postgresql":  # the text tables rewritten in locality order
        assert optimized.getvalue().startswith("optimized in")
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_index WHERE indisclustered AND indexrelid::regclass::text IN "
                           "('search_match_locality', 'search_description_locality')")
            assert cursor.fetchone()[0] == 2
        assert total(gql, "sylphy") == 1
    else:
        assert "nothing to optimize" in optimized.getvalue()


@pytest.mark.django_db(transaction=True)
def test_optimize_skips_a_table_another_transaction_holds():
    """The nightly CLUSTER waits a bounded time for each table's lock: a table a long
    transaction reads (a report, a backup) is skipped until the next run instead of making
    every search queue behind the rewrite; the other table is rewritten."""
    import psycopg

    from search.backends import dbrows

    if connection.vendor != "postgresql":
        unavailable("the database backend clusters its tables on PostgreSQL only",
                    "CI runs on PostgreSQL: this test must run")
    db = connection.settings_dict
    other = psycopg.connect(dbname=db["NAME"], user=db["USER"], password=db["PASSWORD"], host=db["HOST"],
                            port=db["PORT"])
    try:
        other.execute("SELECT count(*) FROM search_productsearchmatch")  # a transaction holding the table
        started = time.monotonic()
        out = dbrows.cluster_text_tables(lock_timeout="300ms")
        assert time.monotonic() - started < 5
        assert out == {"clustered": ["search_productsearchdescription"],
                       "skipped": {"search_productsearchmatch": "locked by another transaction for 300ms"}}
    finally:
        other.rollback()
        other.close()
    assert dbrows.cluster_text_tables()["clustered"] == ["search_productsearchmatch", "search_productsearchdescription"]
