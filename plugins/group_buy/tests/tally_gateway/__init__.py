"""A test-only payment gateway ("tally") that behaves like Stripe where it matters to the
killed-worker test: it honours idempotency keys (a repeated call under a key answers what
the first answered and moves no money), and it counts the money it really moved (captures
and refunds per payment) in the shared cache, so a test can prove that nothing was
captured or refunded twice. Installed in a worker process through
MARKETPLACE_BUILTIN_PLUGINS, and in the test process with the `plugin` fixture."""
