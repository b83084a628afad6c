"""The plugin's services, by concern. Each owns its transaction (or runs inside the
engine's when called from a GUARD hook) and raises `ValidationError`/`NotFound` with a
field and a code.

- `setup`: plans, partners and partner codes (platform staff);
- `codes`: partner code checks, holds at completion, redemption on payment, release;
- `memberships`: pending rows at completion, activation on payment, grants, revocation,
  the expiry sweep, what a member sees;
- `benefits`: member-price savings, free tows and labour discounts consumed per term;
- `refunds`: refund quotes and staff refunds;
- `reports`: the per-partner monthly report and its CSV;
- `reminders`: renewal reminders by e-mail.
"""
