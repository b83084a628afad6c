"""Indexed text search for the database backend: how a query becomes a match
expression, and the three ways a database answers it (the rows it keeps are written by
search.backends.dbrows).

The facts of every product are in `ProductSearchRow` (narrow: visibility, filters,
facets, sorting, family); its text is kept as tokens (search.text.search_tokens):
Latin words; Chinese runs as two-character windows, plus single characters in names,
brand, category and type. A word of the query must match:
- a Latin word: the word, a word it starts (3+ letters: "pad" finds "pads"), or a
  vocabulary word within Elasticsearch's AUTO edit distance with the same first letter
  ("bosh" -> "bosch", "michelen" -> "michelin");
- a Chinese run: all of its two-character windows (a word of the text, wherever it is),
  or else all of its characters in the names, brand, category or product type (so
  "博世刹车片" finds a 刹车片 of the brand 博世 although 世刹 is in no text); synonym
  terms are known words and match by their windows only.
Synonym terms are alternatives of each other; a code-like query also matches codes.

Engines:
- PostgreSQL: `ProductSearchMatch` (the row's facts again, and one tsvector of names
  and codes, weight A, and brand/category/type, weight B) and `ProductSearchDescription`
  (a tsvector without positions), each with a GIN index (no weights in the match:
  nothing to recheck), written from the token strings by `to_tsvector('simple', ...)`
  and matched by `to_tsquery('simple', ...)`; matches ranked by `ts_rank` of the match
  vector; the vocabulary has a pg_trgm GIN index.
- SQLite with FTS5: an external-content FTS5 table kept by triggers, bm25 ranking.
- SQLite without FTS5: the same plan as LIKE conditions on the rows (a scan).
"""
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Q
from django.db.models.functions import Length

from ..text import edits_allowed, within_edits, words

# ts_rank weights, in PostgreSQL's order {D, C, B, A}
RANK_WEIGHTS = [0.05, 0.25, 0.5, 1.0]
# bm25 column weights of the FTS5 table: names, meta, body, codes. Descriptions find more
# than they rank (on PostgreSQL they do not rank at all): long texts repeat a query's words
# and, at weight 1, a service describing brake pads outranked the brake pads.
BM25_WEIGHTS = (10.0, 10.0, 0.2, 10.0)
MAX_TYPO_CANDIDATES = 5
TYPO_SIMILARITY = 0.2  # pg_trgm similarity threshold for vocabulary candidates


# -- the match expression ---------------------------------------------------------------------
@dataclass(frozen=True)
class Term:
    lexeme: str
    prefix: bool = False


@dataclass
class All:
    parts: list = field(default_factory=list)


@dataclass
class Any:
    parts: list = field(default_factory=list)


def _characters(node):
    """Whether `node` is the single-character fallback of a Chinese run."""
    return isinstance(node, All) and len(node.parts) > 1 and all(
        isinstance(p, Term) and len(p.lexeme) == 1 for p in node.parts)


def _word_clause(is_cjk, word, typos, characters=True):
    if is_cjk:
        if len(word) == 1:
            return Term(word)
        windows = All([Term(word[i:i + 2]) for i in range(len(word) - 1)])
        if not characters:
            return windows
        return Any([windows, All([Term(c) for c in dict.fromkeys(word)])])
    alternatives = [Term(word)]
    if len(word) >= 3:
        alternatives.append(Term(word, prefix=True))
    alternatives += [Term(t) for t in typos.get(word, ())]
    return Any(alternatives) if len(alternatives) > 1 else alternatives[0]


def _text_clause(text, typos, characters=True):
    parts = [_word_clause(is_cjk, word, typos, characters) for is_cjk, word in words(text)]
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
    for group in parsed.groups:  # known words: matched as written (no single-character fallback)
        alternatives = [c for c in (_text_clause(term, {}, characters=False) for term in group) if c is not None]
        if alternatives:
            parts.append(Any(alternatives))
    plan = All(parts) if parts else None
    if parsed.code:
        code = Term(parsed.code.lower())
        plan = Any([plan, code]) if plan is not None else code
    return plan


def rank_terms(plan):
    """The terms that rank a match: two-character windows, words and codes (the
    single-character fallback finds, it does not rank)."""
    out = []

    def walk(node):
        if isinstance(node, Term):
            out.append(node)
        elif not _characters(node):
            for part in node.parts:
                walk(part)

    if plan is not None:
        walk(plan)
    return list(dict.fromkeys(out))


def partial_matches(plan):
    """Whether a product can hold some but not all of the plan's required terms in its
    names (then it ranks above 0 without matching them): the plan requires two terms or
    more somewhere - several words, or the windows of a Chinese word of three characters
    or more. One word, its alternatives and synonyms, or a code cannot."""
    def walk(node):
        if isinstance(node, Term) or _characters(node):
            return False
        if isinstance(node, All) and len(node.parts) > 1:
            return True
        return any(walk(part) for part in node.parts)

    return plan is not None and walk(plan)


def to_tsquery(node):
    """The plan in to_tsquery('simple', ...) syntax (lexemes are letters and digits only)."""
    if isinstance(node, Term):
        return node.lexeme + (":*" if node.prefix else "")
    joiner = " & " if isinstance(node, All) else " | "
    return "(" + joiner.join(to_tsquery(p) for p in node.parts) + ")"


def fts5_match(plan):
    """The FTS5 query of a plan: every word in the names, brand, category, type and
    codes, or every word in the descriptions (the rule of both engines)."""
    expression = to_fts5(plan)
    return f"({{names meta codes}} : {expression}) OR ({{body}} : {expression})"


def to_fts5(node):
    """The plan in FTS5 query syntax."""
    if isinstance(node, Term):
        return f'"{node.lexeme}"' + (" *" if node.prefix else "")
    joiner = " AND " if isinstance(node, All) else " OR "
    return "(" + joiner.join(to_fts5(p) for p in node.parts) + ")"


NAME_COLUMNS = ("names", "meta", "codes")


def to_like(node, columns=NAME_COLUMNS, prefix="search_text__"):
    """The plan as LIKE conditions on the space-padded token strings of `columns` (no
    full-text index: a scan)."""
    if isinstance(node, Term):
        needle = f" {node.lexeme}" + ("" if node.prefix else " ")
        condition = Q()
        for column in columns:
            condition |= Q(**{f"{prefix}{column}__contains": needle})
        return condition
    condition = Q()
    for part in node.parts:
        if isinstance(node, All):
            condition &= to_like(part, columns, prefix)
        else:
            condition |= to_like(part, columns, prefix)
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


__all__ = ["All", "Any", "Term", "match_plan", "rank_terms", "partial_matches", "to_tsquery", "to_fts5", "to_like", "engine",
           "typo_candidates"]
