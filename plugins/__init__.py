"""First-party plugins: each package is a Django app built on the public plugin API
(`marketplace.plugins`, `marketplace.plugins.graphql`, `marketplace.plugins.domain`)."""
