"""Pure text helpers shared by both backends (no database, no search server).

- `normalize_code`: the lookup form of SKUs, part and OE numbers;
- `parse_query`: a query split into plain text and synonym groups (query-time synonyms);
- `highlight`: substring highlighting (database backend);
- `haversine_km`, `week_minute`, `opening_ranges`: shop distance and opening hours.
"""
import math
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

# Separators people type inside part numbers: spaces, hyphens and dashes, dots, slashes,
# underscores. The same rule as plugins/parts_storefront (normalize_part_number).
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015./\\_]+")
# Characters kept in SQL by the database backend's code match (see backends/database.py).
SQL_SEPARATORS = (" ", "-", ".", "/", "\\", "_")

MAX_QUERY_LENGTH = 200
MAX_SYNONYM_GROUPS = 8
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY = 24 * 60
EARTH_RADIUS_KM = 6371.0087714  # the mean radius Elasticsearch uses for arc distances


def normalize_code(value):
    """"04465 02220", "04465-02220" and "0446502220" are the same number: NFKC (full-width
    input from a Chinese IME becomes ASCII), separators removed, upper case."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", value or "")).upper()


def looks_like_code(value):
    """Whether a query could be a part number or SKU: at least 4 characters once
    normalised, with at least one digit, and only ASCII letters and digits."""
    code = normalize_code(value)
    return len(code) >= 4 and any(c.isdigit() for c in code) and code.isascii() and code.isalnum()


def clean_query(text):
    text = unicodedata.normalize("NFKC", text or "").strip()
    return re.sub(r"\s+", " ", text)


def fold(text):
    return clean_query(text).casefold()


def _is_wordlike(term):
    return term.isascii() and any(c.isalnum() for c in term)


def _find(haystack, term):
    """Position of `term` in `haystack` (both folded). Latin terms must match whole
    words ("pad" is not found in "padding"); CJK terms match as substrings, since
    Chinese has no spaces between words."""
    if not term:
        return -1
    if _is_wordlike(term):
        match = re.search(r"(?<![0-9a-z])" + re.escape(term) + r"(?![0-9a-z])", haystack)
        return match.start() if match else -1
    return haystack.find(term)


@dataclass
class ParsedQuery:
    """A search text after synonym expansion.

    `rest` is the text with every recognised synonym removed; each entry of `groups` is
    a list of equivalent terms, one of which must match. Without synonyms, `rest` is
    the whole text and `groups` is empty. `code` is the normalised form for exact
    part-number / SKU matching ("" when the text cannot be a code)."""

    text: str
    rest: str
    groups: list = field(default_factory=list)
    code: str = ""

    @property
    def empty(self):
        return not self.text

    @property
    def alternatives(self):
        """Every term that may match, for highlighting and name boosts."""
        terms = [self.text] if self.text else []
        for group in self.groups:
            terms.extend(group)
        return terms


def parse_query(text, synonym_sets=()):
    """Split `text` into plain text and synonym groups. `synonym_sets` are lists of
    equivalent terms (already folded), e.g. [["刹车片", "制动片", "brake pad"]]. Longer
    terms are recognised first, so "brake pad" wins over "pad"."""
    text = clean_query(text)
    rest = text.casefold()
    groups = []
    candidates = sorted(
        ((term, terms) for terms in synonym_sets for term in terms),
        key=lambda item: -len(item[0]),
    )
    for term, terms in candidates:
        if len(groups) >= MAX_SYNONYM_GROUPS:
            break
        position = _find(rest, term)
        if position < 0:
            continue
        rest = (rest[:position] + " " + rest[position + len(term):])
        group = [term] + [t for t in terms if t != term]
        if group not in groups:
            groups.append(group)
    rest = re.sub(r"\s+", " ", rest).strip()
    if not groups:
        rest = text
    return ParsedQuery(text=text, rest=rest, groups=groups, code=normalize_code(text) if looks_like_code(text) else "")


def tokens(text):
    """Whitespace-separated tokens (the database backend matches each one)."""
    return [t for t in clean_query(text).split(" ") if t]


def highlight(value, terms, pre="<em>", post="</em>"):
    """Wrap case-insensitive occurrences of `terms` in `value`; None when nothing matches."""
    if not value:
        return None
    spans = []
    lowered = value.casefold()
    if len(lowered) != len(value):  # casefold changed lengths (e.g. "ß"): fall back to lower()
        lowered = value.lower()
        if len(lowered) != len(value):
            return None
    for term in {t.casefold() for t in terms if t and t.strip()}:
        for part in [term, *tokens(term)] if " " in term else [term]:
            start = lowered.find(part)
            while start >= 0 and part:
                spans.append((start, start + len(part)))
                start = lowered.find(part, start + len(part))
    if not spans:
        return None
    spans.sort()
    merged = [list(spans[0])]
    for start, end in spans[1:]:
        if start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out, last = [], 0
    for start, end in merged:
        out.append(value[last:start])
        out.append(pre + value[start:end] + post)
        last = end
    out.append(value[last:])
    return "".join(out)


def merge_adjacent_tags(snippet, pre="<em>", post="</em>"):
    """Elasticsearch highlights Chinese text character by character (one token per
    character): "<em>刹</em><em>车</em>" reads better as "<em>刹车</em>"."""
    return snippet.replace(post + pre, "")


def haversine_km(lat1, lon1, lat2, lon2):
    """Great-circle distance in kilometres (the formula Elasticsearch's `arc` uses)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = math.radians(lat2 - lat1)
    dlambda = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def week_minute(at: datetime, tz_name):
    """Minutes since Monday 00:00 in the business time zone."""
    local = at.astimezone(ZoneInfo(tz_name))
    return local.weekday() * MINUTES_PER_DAY + local.hour * 60 + local.minute


def _minutes(hhmm):
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def opening_ranges(opening_hours):
    """`{"mon": [["09:00", "18:00"]], ...}` as minute-of-week ranges `[{"gte", "lt"}]`,
    the shape of an `integer_range` field: a shop is open at minute m when a range
    contains m (the same rule as marketplace.vendors.opening.is_open)."""
    ranges = []
    for index, day in enumerate(DAYS):
        for start, end in (opening_hours or {}).get(day, []):
            try:
                gte, lt = _minutes(start), _minutes(end)
            except (ValueError, AttributeError):
                continue
            if lt > gte:
                ranges.append({"gte": index * MINUTES_PER_DAY + gte, "lt": index * MINUTES_PER_DAY + lt})
    return ranges


# -- tokens for the database backend's index (search.backends.dbtext) ----------------------
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
_WORDS = re.compile(rf"[{_CJK}]+|[^\W_{_CJK}]+")
MAX_WORD = 60


def words(text):
    """[(is_cjk, word)] of a text after NFKC and case folding: runs of CJK characters,
    and words of other letters and digits ("5W-30" -> "5w", "30")."""
    out = []
    for match in _WORDS.finditer(fold(text)):
        word = match.group()[:MAX_WORD]
        out.append((bool(re.match(rf"[{_CJK}]", word)), word))
    return out


def search_tokens(text, characters=True):
    """The tokens the database backend indexes for a text: Latin words as they are; a
    run of Chinese characters as each two-character window, and (`characters`) each
    character (刹车片 -> 刹车 车片 刹 车 片), so a query finds words inside longer runs
    without a dictionary. Descriptions are indexed without single characters: a query's
    lone characters match names, brand, category and type only. The same rules make the
    query side (search.backends.dbtext)."""
    out = []
    for is_cjk, word in words(text):
        if is_cjk:
            out.extend(word[i:i + 2] for i in range(len(word) - 1))
            if characters or len(word) == 1:
                out.extend(word)
        else:
            out.append(word)
    return out


def edits_allowed(word):
    """Typo tolerance per word, as Elasticsearch's `fuzziness: AUTO`: none up to 2
    characters, one edit for 3-5, two from 6."""
    return 0 if len(word) < 3 else 1 if len(word) < 6 else 2


def within_edits(a, b, limit):
    """Whether the optimal-string-alignment distance (insertions, deletions,
    substitutions, adjacent transpositions) between a and b is at most `limit`."""
    if abs(len(a) - len(b)) > limit:
        return False
    previous2, previous = None, list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return False
        previous2, previous = previous, current
    return previous[-1] <= limit
