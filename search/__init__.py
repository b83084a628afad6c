"""Product and shop search: documents, indexing, backends and the GraphQL queries.

Two backends behind one interface (`search.backends.SearchBackend`), chosen by
`settings.SEARCH_BACKEND`: "elasticsearch" (production and CI) and "database" (the
embedded default). See docs/search.md.
"""
