"""The storefront for members and the vendor dashboard (issue 19): pages served by the
engine itself, written as plain ES modules against the public GraphQL API (docs/storefront.md)."""
