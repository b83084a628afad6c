"""Customer segments: the rule language and the facts it reads.

A rule is a JSON tree. Inner nodes: `{"all": [...]}`, `{"any": [...]}`, `{"not": {...}}`.
Leaves compare one fact of a customer at the store:

    {"all": [{"fact": "net_spend", "op": "gte", "value": "500", "days": 180},
             {"fact": "vehicle", "op": "has", "value": {"make": "toyota", "model": "corolla"}}]}

| fact | value | ops | reads |
| --- | --- | --- | --- |
| `net_spend` | CNY (string or number) | eq ne gt gte lt lte | net goods spend at the store in the last `days` (default 365) |
| `order_count` | int | eq ne gt gte lt lte | paid sub-orders at the store in the last `days` (default 365) |
| `last_order_days` | int | eq ne gt gte lt lte | days since the last paid sub-order at the store (never ordered: no match) |
| `tier` | rank (0 = none) | eq ne gt gte lt lte in | the customer's tier rank at the store |
| `points` | int | eq ne gt gte lt lte | available points at the store |
| `cashback` | CNY | eq ne gt gte lt lte | available cashback at the store |
| `member` | true/false | eq | the platform membership (membership plugin's `is_member` hook) |
| `vehicle` | {make, model, year_from, year_to} (slugs; any subset, make or model needed) | has | a vehicle in the customer's garage (parts_storefront's `garage_vehicles` hook) |
| `district`, `city` | text, or a list for `in` | eq ne in | the customer's default address |

`compile_rule` checks a tree and refuses unknown facts, operators and bad values with a
field error (`rule.all.0.fact`, code INVALID). `gather` loads every fact a set of rules
needs for a store's customers in a handful of queries; `Facts` answers per customer, the
membership look-up lazily (only when a rule gets that far).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from marketplace.plugins import call_hook, clock, has_hook
from marketplace.plugins.errors import ErrorCode, MarketplaceError, ValidationError

NUMERIC = ("eq", "ne", "gt", "gte", "lt", "lte")
FACTS = {
    "net_spend": ("money", NUMERIC, True),
    "order_count": ("int", NUMERIC, True),
    "last_order_days": ("int", NUMERIC, False),
    "tier": ("int", NUMERIC + ("in",), False),
    "points": ("int", NUMERIC, False),
    "cashback": ("money", NUMERIC, False),
    "member": ("bool", ("eq",), False),
    "vehicle": ("vehicle", ("has",), False),
    "district": ("text", ("eq", "ne", "in"), False),
    "city": ("text", ("eq", "ne", "in"), False),
}
DEFAULT_DAYS = 365
MAX_NODES, MAX_DEPTH = 40, 6
# Cheap facts first, so that `all` stops before the per-customer membership look-up.
COST = {"member": 3, "vehicle": 2, "district": 1, "city": 1}


def _error(message, field, code=ErrorCode.INVALID):
    return ValidationError(message, code=code, field=field)


@dataclass
class Leaf:
    fact: str
    op: str
    value: object
    days: int | None = None

    cost: int = field(init=False, default=0)

    def __post_init__(self):
        self.cost = COST.get(self.fact, 0)

    def needs(self):
        yield (self.fact, self.days)

    def evaluate(self, facts):
        actual = facts.value(self.fact, self.days)
        if self.fact == "vehicle":
            return any(_vehicle_matches(v, self.value) for v in actual or ())
        if actual is None:
            return False
        if self.op == "in":
            return actual in self.value
        if self.op == "eq":
            return actual == self.value
        if self.op == "ne":
            return actual != self.value
        if self.op == "gt":
            return actual > self.value
        if self.op == "gte":
            return actual >= self.value
        if self.op == "lt":
            return actual < self.value
        return actual <= self.value


@dataclass
class Group:
    kind: str  # all, any, not
    children: list

    @property
    def cost(self):
        return max((c.cost for c in self.children), default=0)

    def needs(self):
        for child in self.children:
            yield from child.needs()

    def evaluate(self, facts):
        if self.kind == "not":
            return not self.children[0].evaluate(facts)
        if self.kind == "all":
            return all(child.evaluate(facts) for child in self.children)
        return any(child.evaluate(facts) for child in self.children)


def _vehicle_matches(vehicle, wanted):
    for key in ("make", "model"):
        if wanted.get(key) and str(vehicle.get(key, "")).lower() != wanted[key]:
            return False
    year = vehicle.get("year")
    if wanted.get("year_from") is not None and (year is None or year < wanted["year_from"]):
        return False
    if wanted.get("year_to") is not None and (year is None or year > wanted["year_to"]):
        return False
    return True


def compile_rule(rule, field="rule"):
    """Check a rule tree and return its evaluable form. Raises ValidationError naming the
    path of the first problem (e.g. `rule.all.1.fact`, code INVALID)."""
    counter = [0]
    node = _compile(rule, field, counter, 0)
    return node


def _compile(node, path, counter, depth):
    counter[0] += 1
    if counter[0] > MAX_NODES:
        raise _error(f"A rule may have at most {MAX_NODES} conditions.", path, ErrorCode.LIMIT_EXCEEDED)
    if depth > MAX_DEPTH:
        raise _error(f"A rule may nest at most {MAX_DEPTH} levels.", path, ErrorCode.LIMIT_EXCEEDED)
    if not isinstance(node, dict) or not node:
        raise _error('Give a condition {"fact", "op", "value"} or a group {"all": [...]}, {"any": [...]}, '
                     '{"not": {...}}.', path)
    groups = [key for key in ("all", "any", "not") if key in node]
    if groups:
        if len(node) != 1:
            raise _error("A group has exactly one key: all, any or not.", path)
        kind = groups[0]
        inner = node[kind]
        if kind == "not":
            return Group("not", [_compile(inner, f"{path}.not", counter, depth + 1)])
        if not isinstance(inner, list) or not inner:
            raise _error(f'"{kind}" takes a non-empty list of conditions.', f"{path}.{kind}")
        children = [_compile(child, f"{path}.{kind}.{i}", counter, depth + 1) for i, child in enumerate(inner)]
        return Group(kind, sorted(children, key=lambda c: c.cost))
    return _leaf(node, path)


def _leaf(node, path):
    unknown = set(node) - {"fact", "op", "value", "days"}
    if unknown:
        raise _error(f"Unknown key {sorted(unknown)[0]!r} in a condition.", f"{path}.{sorted(unknown)[0]}")
    fact = node.get("fact")
    if fact not in FACTS:
        raise _error(f"Unknown fact {fact!r}; known facts: {', '.join(FACTS)}.", f"{path}.fact")
    kind, ops, windowed = FACTS[fact]
    op = node.get("op")
    if op not in ops:
        raise _error(f"{fact} takes the operators {', '.join(ops)}.", f"{path}.op")
    days = None
    if windowed:
        days = node.get("days", DEFAULT_DAYS)
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 3650:
            raise _error("days: a whole number from 1 to 3650.", f"{path}.days")
    elif "days" in node:
        raise _error(f"{fact} takes no days.", f"{path}.days")
    if "value" not in node:
        raise _error("Required.", f"{path}.value", ErrorCode.REQUIRED)
    value = _value(kind, op, node["value"], f"{path}.value")
    return Leaf(fact, op, value, days)


def _scalar(kind, value, path):
    if kind == "money":
        if isinstance(value, bool):
            raise _error("Give an amount.", path)
        try:
            number = Decimal(str(value))
        except (InvalidOperation, ValueError, TypeError):
            raise _error("Give an amount.", path) from None
        if not number.is_finite() or not -10**9 < number < 10**9:
            raise _error("Give a finite amount (not NaN or Infinity).", path)
        return number
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int) or not -10**9 < value < 10**9:
            raise _error("Give a whole number.", path)
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise _error("Give true or false.", path)
        return value
    if kind == "text":
        if not isinstance(value, str) or not value.strip() or len(value) > 100:
            raise _error("Give a text of 1 to 100 characters.", path)
        return value.strip()
    raise _error("Unsupported value.", path)


def _value(kind, op, value, path):
    if kind == "vehicle":
        if not isinstance(value, dict) or not (value.get("make") or value.get("model")):
            raise _error('Give {"make": slug, "model": slug, "year_from": int, "year_to": int} with a make or a '
                         'model.', path)
        unknown = set(value) - {"make", "model", "year_from", "year_to"}
        if unknown:
            raise _error(f"Unknown key {sorted(unknown)[0]!r}.", f"{path}.{sorted(unknown)[0]}")
        clean = {}
        for key in ("make", "model"):
            if value.get(key) is not None:
                clean[key] = _scalar("text", value[key], f"{path}.{key}").lower()
        for key in ("year_from", "year_to"):
            if value.get(key) is not None:
                year = value[key]
                if isinstance(year, bool) or not isinstance(year, int) or not 1900 <= year <= 2100:
                    raise _error("Give a year from 1900 to 2100.", f"{path}.{key}")
                clean[key] = year
        return clean
    if op == "in":
        if not isinstance(value, list) or not value or len(value) > 100:
            raise _error("Give a list of 1 to 100 values.", path)
        return frozenset(_scalar(kind, item, f"{path}.{i}") for i, item in enumerate(value))
    return _scalar(kind, value, path)


def facts_catalogue():
    """[(name, value kind, operators, takes days)] for clients building rules."""
    return [(name, kind, ops, windowed) for name, (kind, ops, windowed) in FACTS.items()]


# -- gathering facts -------------------------------------------------------------------------------
@dataclass
class Bulk:
    """What `gather` loaded for a store's customers."""

    now: object
    universe: set
    spend: dict = field(default_factory=dict)    # {days: {user_id: Decimal}}
    orders: dict = field(default_factory=dict)   # {days: {user_id: int}}
    last_paid: dict = field(default_factory=dict)
    accounts: dict = field(default_factory=dict)  # {user_id: (tier rank, points, cashback)}
    contacts: dict = field(default_factory=dict)
    vehicles: dict = field(default_factory=dict)
    members: dict = field(default_factory=dict)  # filled lazily


def gather(vendor_id, needs, user_ids=None, now=None) -> Bulk:
    """Load the facts named in `needs` ({(fact, days)}) for the store's customers (those
    with a paid sub-order there, or an account), or only for `user_ids`."""
    from marketplace.plugins.orders import customer_stats

    from ..models import VipAccount

    now = now or clock.now()
    every = customer_stats(vendor_id, user_ids=user_ids)
    accounts = VipAccount.objects.filter(vendor_id=vendor_id, user__isnull=False)
    if user_ids is not None:
        accounts = accounts.filter(user_id__in=list(user_ids))
    rows = accounts.values_list("user_id", "tier__rank", "points_available", "cashback_available")
    bulk = Bulk(now=now, universe=set(every))
    for user_id, rank, points, cashback in rows:
        bulk.accounts[user_id] = (rank or 0, points, cashback)
        bulk.universe.add(user_id)
    bulk.last_paid = {uid: stats.last_paid_at for uid, stats in every.items()}
    windows = {days for fact, days in needs if fact in ("net_spend", "order_count")}
    for days in windows:
        stats = every if days is None else customer_stats(vendor_id, since=now - timedelta(days=days),
                                                          user_ids=user_ids)
        bulk.spend[days] = {uid: s.net_spend for uid, s in stats.items()}
        bulk.orders[days] = {uid: s.orders for uid, s in stats.items()}
    wanted = {fact for fact, _days in needs}
    if wanted & {"district", "city"}:
        from marketplace.plugins.accounts import contacts

        bulk.contacts = contacts(bulk.universe)
    if "vehicle" in wanted and has_hook("garage_vehicles") and bulk.universe:
        bulk.vehicles = call_hook("garage_vehicles", user_ids=sorted(bulk.universe)) or {}
    return bulk


class Facts:
    """One customer's facts, read from a `Bulk`."""

    __slots__ = ("bulk", "user_id")

    def __init__(self, bulk, user_id):
        self.bulk, self.user_id = bulk, user_id

    def value(self, fact, days=None):
        bulk, uid = self.bulk, self.user_id
        if fact == "net_spend":
            return bulk.spend.get(days, {}).get(uid, Decimal("0.00"))
        if fact == "order_count":
            return bulk.orders.get(days, {}).get(uid, 0)
        if fact == "last_order_days":
            last = bulk.last_paid.get(uid)
            return (bulk.now - last).days if last is not None else None
        if fact in ("tier", "points", "cashback"):
            account = bulk.accounts.get(uid)
            index = ("tier", "points", "cashback").index(fact)
            return account[index] if account else (0 if fact != "cashback" else Decimal("0.00"))
        if fact in ("district", "city"):
            contact = bulk.contacts.get(uid)
            return (getattr(contact, fact) or None) if contact else None
        if fact == "vehicle":
            return bulk.vehicles.get(uid, ())
        if fact == "member":
            if uid not in bulk.members:
                bulk.members[uid] = bool(has_hook("is_member") and call_hook("is_member", user_id=uid, at=None))
            return bulk.members[uid]
        raise MarketplaceError(f"Unknown fact {fact}")
