"""First-party plugins: each package is a Django app built only on the public plugin API
(`marketplace.plugins` and its submodules), exactly as a third-party plugin would be."""
