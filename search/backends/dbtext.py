"""Indexed text search for the database backend: the rows it keeps
(`ProductSearchRow`), how a query becomes a match expression, and the three ways a
database answers it.

Tokens (search.text.search_tokens): Latin words, and Chinese runs as characters plus
two-character windows. A query word must match:
- a Latin word: the word, a word it starts (3+ letters: "pad" finds "pads"), or a
  vocabulary word within Elasticsearch's AUTO edit distance with the same first letter
  ("bosh" -> "bosch", "michelen" -> "michelin");
- a Chinese run: all of its two-character windows (a word of the text, wherever it is),
  or else all of its characters in the names, brand, category or product type (so
  "博世刹车片" finds a 刹车片 of the brand 博世 although 世刹 is in no text).
Synonym terms are alternatives of each other; a code-like query also matches codes.

Engines:
- PostgreSQL: a tsvector (weights: names and codes A, brand/category/type B,
  descriptions C) kept by a trigger, a GIN index, `to_tsquery('simple', ...)`,
  `ts_rank` with those weights; the vocabulary has a pg_trgm GIN index.
- SQLite with FTS5: an external-content FTS5 table kept by triggers, bm25 ranking.
- SQLite without FTS5: the same plan as LIKE conditions on the rows (a scan).
"""
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Q
from django.db.models.functions import Length

from ..text import edits_allowed, fold, normalize_code, search_tokens, within_edits, words

# ts_rank weights, in PostgreSQL's order {D, C, B, A}
RANK_WEIGHTS = [0.05, 0.25, 0.5, 1.0]
# bm25 column weights of the FTS5 table: names, meta, body, codes
BM25_WEIGHTS = (10.0, 4.0, 1.0, 10.0)
MAX_TYPO_CANDIDATES = 5
TYPO_SIMILARITY = 0.2  # pg_trgm similarity threshold for vocabulary candidates


# -- the match expression ---------------------------------------------------------------------
@dataclass(frozen=True)
class Term:
    lexeme: str
    prefix: bool = False
    strong: bool = False  # names, brand, category, type only (not descriptions)


@dataclass
class All:
    parts: list = field(default_factory=list)


@dataclass
class Any:
    parts: list = field(default_factory=list)


def _word_clause(is_cjk, word, typos):
    if is_cjk:
        if len(word) == 1:
            return Term(word, strong=True)
        windows = All([Term(word[i:i + 2]) for i in range(len(word) - 1)])
        characters = All([Term(c, strong=True) for c in dict.fromkeys(word)])
        return Any([windows, characters])
    alternatives = [Term(word)]
    if len(word) >= 3:
        alternatives.append(Term(word, prefix=True))
    alternatives += [Term(t) for t in typos.get(word, ())]
    return Any(alternatives) if len(alternatives) > 1 else alternatives[0]


def _text_clause(text, typos):
    parts = [_word_clause(is_cjk, word, typos) for is_cjk, word in words(text)]
    return All(parts) if parts else None


def match_plan(parsed, typos=None):
    """The match expression of a parsed query (search.text.ParsedQuery): every word of
    the plain text, and one term of every synonym group; or, for a code-like query,
    the code itself. None when nothing is searchable."""
    typos = typos or {}
    parts = []
    rest = _text_clause(parsed.rest, typos) if parsed.rest else None
    if rest is not None:
        parts.append(rest)
    for group in parsed.groups:
        alternatives = [c for c in (_text_clause(term, {}) for term in group) if c is not None]
        if alternatives:
            parts.append(Any(alternatives))
    plan = All(parts) if parts else None
    if parsed.code:
        code = Term(parsed.code.lower())
        plan = Any([plan, code]) if plan is not None else code
    return plan


def rank_terms(plan):
    """The terms that rank a match (two-character windows, words, codes; single
    characters only where a query word is one character)."""
    out = []

    def walk(node, inside_characters=False):
        if isinstance(node, Term):
            if not (inside_characters and len(node.lexeme) == 1 and node.strong):
                out.append(Term(node.lexeme, prefix=node.prefix))
            return
        parts = node.parts
        characters = isinstance(node, All) and len(parts) > 1 and all(
            isinstance(p, Term) and p.strong and len(p.lexeme) == 1 for p in parts)
        for part in parts:
            walk(part, characters)

    if plan is not None:
        walk(plan)
    return list(dict.fromkeys(out))


def to_tsquery(node):
    """The plan in to_tsquery('simple', ...) syntax (lexemes are letters and digits only)."""
    if isinstance(node, Term):
        suffix = (":*" if node.prefix else "") + ("AB" if node.strong else "")
        if suffix and not node.prefix:
            suffix = ":" + suffix
        return node.lexeme + suffix
    joiner = " & " if isinstance(node, All) else " | "
    return "(" + joiner.join(to_tsquery(p) for p in node.parts) + ")"


def to_fts5(node):
    """The plan in FTS5 query syntax."""
    if isinstance(node, Term):
        phrase = f'"{node.lexeme}"' + (" *" if node.prefix else "")
        return "{names meta codes} : " + phrase if node.strong else phrase
    joiner = " AND " if isinstance(node, All) else " OR "
    return "(" + joiner.join(to_fts5(p) for p in node.parts) + ")"


def to_like(node, prefix="search_row__"):
    """The plan as LIKE conditions on the rows' padded token strings (no full-text index)."""
    if isinstance(node, Term):
        needle = f" {node.lexeme}" + ("" if node.prefix else " ")
        columns = ("names", "meta", "codes") if node.strong else ("names", "meta", "body", "codes")
        condition = Q()
        for column in columns:
            condition |= Q(**{f"{prefix}{column}__contains": needle})
        return condition
    condition = Q()
    for part in node.parts:
        if isinstance(node, All):
            condition &= to_like(part, prefix)
        else:
            condition |= to_like(part, prefix)
    return condition


# -- engine -------------------------------------------------------------------------------------
_fts5 = {}


def engine():
    """"postgresql", "fts5" (SQLite with the FTS5 table) or "like" (anything else)."""
    if connection.vendor == "postgresql":
        return "postgresql"
    if connection.vendor == "sqlite":
        key = connection.settings_dict.get("NAME")
        if key not in _fts5:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'search_product_fts'")
                _fts5[key] = cursor.fetchone() is not None
        if _fts5[key]:
            return "fts5"
    return "like"


# -- typo tolerance -------------------------------------------------------------------------------
def typo_candidates(word_list):
    """{word: [vocabulary words within AUTO edits, same first letter]} for Latin words
    of 3+ characters (not the word itself). One query per word; PostgreSQL finds the
    candidates through the pg_trgm index, SQLite scans the words of that first letter
    and length."""
    from ..models import SearchTerm

    out = {}
    for word in dict.fromkeys(word_list):
        limit = edits_allowed(word)
        if limit == 0 or not word.isascii():
            continue
        if engine() == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT term FROM search_searchterm WHERE term %% %s AND term LIKE %s "
                    "ORDER BY similarity(term, %s) DESC, term LIMIT 50", [word, word[0] + "%", word])
                candidates = [row[0] for row in cursor.fetchall()]
        else:
            candidates = list(SearchTerm.objects.annotate(length=Length("term")).filter(
                term__startswith=word[0], length__gte=len(word) - limit, length__lte=len(word) + limit)
                .values_list("term", flat=True)[:5000])
        found = [c for c in candidates if c != word and within_edits(word, c, limit)]
        if found:
            out[word] = found[:MAX_TYPO_CANDIDATES]
    return out


def set_similarity_threshold(sender, connection, **kwargs):
    """`connection_created` receiver: the pg_trgm threshold for the `%` operator."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET pg_trgm.similarity_threshold = %s", [TYPO_SIMILARITY])


# -- rows -------------------------------------------------------------------------------------------
def _joined(values):
    tokens = []
    for value in values:
        tokens.extend(search_tokens(value or ""))
    return " " + " ".join(dict.fromkeys(tokens)) + " " if tokens else ""


def latin_words(*texts):
    return {w for text in texts for is_cjk, w in words(text or "") if not is_cjk and len(w) >= 3 and w.isalpha()}


def build_rows(products, paths, codes_by_product):
    """(ProductSearchRow objects, vocabulary words) for a batch of products (brand loaded)."""
    from ..documents import family_key
    from ..models import ProductSearchRow

    rows, vocabulary = [], set()
    for product in products:
        path = paths.path(product.category_id)
        product_type = paths.product_type(product.product_type_id)
        brand = product.brand
        meta = [brand.name_zh, brand.name_en, brand.slug] if brand else []
        meta += [c.name_zh for c in path] + [c.name_en for c in path]
        if product_type is not None:
            meta += [product_type.name_zh, product_type.name_en]
        codes = sorted(codes_by_product.get(product.pk, ()))
        rows.append(ProductSearchRow(
            product_id=product.pk, names=_joined([product.name_zh, product.name_en]), meta=_joined(meta),
            body=_joined([product.description_zh, product.description_en]),
            codes=(" " + " ".join(c.lower() for c in codes) + " ") if codes else "",
            family=family_key(product.brand_id, product.name_zh)))
        vocabulary |= latin_words(product.name_en, *meta)
    return rows, vocabulary


def write_rows(rows, vocabulary):
    """Upsert rows (the PostgreSQL trigger / SQLite FTS5 triggers follow) and add words."""
    from ..models import ProductSearchRow, SearchTerm

    with transaction.atomic():
        ProductSearchRow.objects.bulk_create(
            rows, batch_size=500, update_conflicts=True, unique_fields=["product"],
            update_fields=["names", "meta", "body", "codes", "family", "updated_at"])
        SearchTerm.objects.bulk_create([SearchTerm(term=w[:64]) for w in sorted(vocabulary)], batch_size=1000,
                                       ignore_conflicts=True)


def normalised_codes(skus_by_product, plugin_codes):
    """{product_id: {code}}: normalised SKUs and the plugins' code-field values."""
    out = {}
    for product_id, skus in skus_by_product.items():
        out.setdefault(product_id, set()).update(normalize_code(s) for s in skus)
    for product_id, values in plugin_codes.items():
        for value in values if isinstance(values, (list, tuple, set)) else [values]:
            out.setdefault(product_id, set()).add(normalize_code(str(value)))
    return {pk: {c for c in codes if c} for pk, codes in out.items()}


__all__ = ["All", "Any", "Term", "match_plan", "rank_terms", "to_tsquery", "to_fts5", "to_like", "engine",
           "typo_candidates", "build_rows", "write_rows", "fold"]
