"""Which plugin contributed which field of a core GraphQL type (filled when the schema is
built from the `graphql_type_fields` hook), so the core can refuse a disabled plugin's
input field with PLUGIN_DISABLED."""

_owners: dict[tuple[str, str], str] = {}


def record(owners):
    """Replace the table: {(type_name, python field name): plugin name}."""
    _owners.clear()
    _owners.update(owners)


def owner_of(type_name, field_name):
    """The plugin that added `field_name` to the GraphQL type `type_name`, or None."""
    return _owners.get((type_name, field_name))
