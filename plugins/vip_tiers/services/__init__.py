"""The plugin's services, by concern. Each owns its transaction, or runs inside the
engine's when called from a GUARD hook; refusals are `ValidationError`s with a field and
a code.

- `programs`: a store's programme and tiers, the product gate (activation guard);
- `balances`: accounts, the append-only points/cashback ledger, lots, the claim;
- `earning`: pending at payment, available after completion + return window, expiry;
- `redemption`: tenders at checkout, the claim at completion, release on cancel;
- `refunds`: exact reversals and returns on refunds;
- `tiers`: upgrade on completion, the monthly review;
- `facts` and `segments`: the rule language, recomputation, export;
- `campaigns`: re-purchase messages through the `vip_deliver_message` hook;
- `integrity`: cached balances against the ledger.
"""
