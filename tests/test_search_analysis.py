"""The analysis the mappings use, on the real node: Chinese word segmentation under the
names of the official analysis-smartcn plugin, analysis-common's components under
their production names and rules, the mapping's sub-fields, and the start-up check that
tells an operator a cluster lacks them. Elasticsearch only (under CI a missing node
fails; without CI these skip)."""
import itertools
import uuid

import pytest
from elasticsearch import BadRequestError

from tests.conftest import unavailable

RUN = uuid.uuid4().hex[:8]
_numbers = itertools.count()


@pytest.fixture
def es(settings):
    from search.backends import get_backend

    if not settings.ELASTICSEARCH_URL:
        unavailable("ELASTICSEARCH_URL not set (developer run without services)",
                    "ELASTICSEARCH_URL is not set under CI: the search node must be tested")
    settings.SEARCH_BACKEND = "elasticsearch"
    settings.SEARCH_INDEX_PREFIX = f"test-{RUN}-an{next(_numbers)}-"
    backend = get_backend()
    yield backend
    for index in backend.all_indices():
        backend.client.indices.delete(index=index, ignore_unavailable=True)


def tokens(es, index=None, **body):
    return [t["token"] for t in es.client.indices.analyze(index=index, body=body)["tokens"]]


def refused(es, **body):
    with pytest.raises(BadRequestError) as caught:
        es.client.indices.analyze(body=body)
    return str(caught.value)


def test_smartcn_segments_words_under_the_official_names(es):
    text = "博世刹车片前轮适用丰田卡罗拉"
    assert tokens(es, analyzer="smartcn", text=text)[:6] == ["博世", "刹车片", "前轮", "适用", "丰田", "卡"]
    assert tokens(es, tokenizer="smartcn_tokenizer", text="机油滤清器") == tokens(
        es, tokenizer="smartcn_sentence", text="机油滤清器")
    assert "，" not in tokens(es, tokenizer="smartcn_tokenizer", filter=["smartcn_stop"], text="刹车片，机油")
    # The standard analyzer keeps one token per character: the recall field.
    assert tokens(es, analyzer="standard", text="刹车片") == ["刹", "车", "片"]


def test_synonym_rules_are_parsed_by_the_chain_in_front_of_them(es):
    """Under smartcn the rule's 制动片 is 制动 + 片, as the text is: the graph finds 刹车片
    and "brake pad" for 制动片 (a rule parsed any other way would never match Chinese)."""
    graph = es.client.indices.analyze(body={
        "tokenizer": "smartcn_tokenizer",
        "filter": ["lowercase", {"type": "synonym_graph", "synonyms": ["刹车片, 制动片, brake pad"]}],
        "text": "制动片"})["tokens"]
    assert {"刹车片", "制动", "brake", "pad", "片"} <= {t["token"] for t in graph}
    assert tokens(es, tokenizer="whitespace", filter=["lowercase", {"type": "synonym", "synonyms": ["tyre => tire"]}],
                  text="Michelin TYRE") == ["michelin", "tire"]
    # As in production: n-grams and word delimiters cannot parse rules.
    for before in ({"type": "edge_ngram", "min_gram": 1, "max_gram": 3}, "word_delimiter_graph"):
        message = refused(es, tokenizer="standard",
                          filter=[before, {"type": "synonym_graph", "synonyms": ["a, b"]}], text="abc")
        assert "cannot be used to parse synonyms" in message
    assert "synonyms_set" in refused(es, tokenizer="standard", filter=[
        {"type": "synonym_graph", "synonyms_set": "parts"}], text="x")


def test_analysis_common_components_under_their_production_names(es):
    assert tokens(es, tokenizer="standard", filter=["cjk_width", "asciifolding", "lowercase"],
                  text="Ｂｏｓｃｈ Café") == ["bosch", "cafe"]
    assert tokens(es, tokenizer="standard", filter=["cjk_bigram"], text="刹车片") == ["刹车", "车片"]
    assert tokens(es, tokenizer="standard", filter=[{"type": "cjk_bigram", "output_unigrams": True}],
                  text="刹车") == ["刹", "刹车", "车"]
    assert tokens(es, tokenizer="whitespace", filter=["word_delimiter_graph"], text="04465-02220") == ["04465", "02220"]
    assert tokens(es, tokenizer="whitespace", filter=[{"type": "word_delimiter_graph", "catenate_numbers": True}],
                  text="04465-02220")[0] == "0446502220"
    assert tokens(es, tokenizer="keyword", char_filter=["html_strip"], filter=["trim"],
                  text="<b> 刹车片 </b>") == ["刹车片"]
    assert tokens(es, tokenizer="standard", filter=["lowercase", {"type": "stemmer", "language": "english"}],
                  text="pads tires") == ["pad", "tire"]
    assert tokens(es, tokenizer="standard", filter=["lowercase", "kstem"], text="batteries") == ["battery"]
    assert tokens(es, tokenizer="standard", filter=["porter_stem", "flatten_graph"], text="plugs") == ["plug"]
    assert tokens(es, tokenizer={"type": "edge_ngram", "min_gram": 2, "max_gram": 3, "token_chars": ["letter"]},
                  text="bosch") == ["bo", "bos"]
    assert tokens(es, tokenizer="standard", filter=[{"type": "ngram", "min_gram": 2, "max_gram": 3}],
                  text="abc") == ["ab", "abc", "bc"]
    assert tokens(es, tokenizer="standard", filter=[{"type": "edge_ngram", "min_gram": 1, "max_gram": 2}],
                  text="tyre") == ["t", "ty"]
    # Anything not offered fails exactly as on a cluster without it.
    assert "failed to find global filter under [icu_folding]" in refused(es, tokenizer="standard",
                                                                        filter=["icu_folding"], text="x")
    assert "failed to find global tokenizer under [ik_max_word]" in refused(es, tokenizer="ik_max_word", text="x")


@pytest.mark.django_db
def test_the_product_mapping_indexes_chinese_words_next_to_characters(es, make_vendor, make_product):
    vendor = make_vendor("analysis-parts")
    make_product(vendor, "bosch-front", "博世前轮刹车片", name_en="Bosch front brake pads")
    es.rebuild()
    index = es.indices_behind(es.alias("products"))[0]
    fields = es.client.indices.get_mapping(index=index)[index]["mappings"]["properties"]
    assert fields["name_zh"]["analyzer"] == "standard"
    assert fields["name_zh"]["fields"]["smart"]["analyzer"] == "zh_smart"
    assert fields["name_en"]["fields"]["en"]["analyzer"] == "en_text"
    assert fields["family"]["type"] == "keyword"
    smart = tokens(es, index=index, field="name_zh.smart", text="博世前轮刹车片")
    assert "刹车片" in smart and "博世" in smart
    assert tokens(es, index=index, field="name_zh", text="刹车片") == ["刹", "车", "片"]
    assert tokens(es, index=index, field="name_en.en", text="Brake Pads") == ["brake", "pad"]


@pytest.mark.django_db
def test_start_up_check_names_what_a_cluster_lacks(es, monkeypatch):
    from django.core.checks import run_checks

    from search import mappings

    assert es.analysis_problem() is None
    assert [e for e in run_checks(include_deployment_checks=True, tags=["search"]) if e.id == "search.E003"] == []
    # A cluster without analysis-smartcn (here: a name no node offers) is told plainly.
    monkeypatch.setitem(mappings.REQUIRED_ANALYSIS, "analyzer", ["smartcn", "smartcn_missing_for_test"])
    problem = es.analysis_problem()
    assert "analyzer smartcn_missing_for_test" in problem and "analysis-smartcn" in problem
    assert "bin/elasticsearch-plugin install analysis-smartcn" in problem
    errors = [e for e in run_checks(include_deployment_checks=True, tags=["search"]) if e.id == "search.E003"]
    assert errors and "smartcn_missing_for_test" in errors[0].msg
    # ...and no index is created on such a cluster: the rebuild stops with the same message.
    from search.backends.elasticsearch import MissingAnalysis

    es._analysis_checked = False
    with pytest.raises(MissingAnalysis, match="smartcn_missing_for_test"):
        es.rebuild()
    assert es.all_indices() == []
