"""What a query selects below a field, so a resolver can load only the columns the
response needs (e.g. a listing that does not show descriptions does not read them).

    selected(info, "edges", "node")            # {"id", "nameZh", "vendor", ...}
    selected(info, "edges", "node", "vendor")  # the fields asked of each product's vendor

Fragments (named and inline) are followed; fields under @skip/@include count as
selected (deciding them would need the variables; loading a little more is safe).
"""
from graphql import FieldNode, FragmentSpreadNode, InlineFragmentNode


def _fields(selection_set, fragments, seen=None):
    """[(FieldNode)] of a selection set, through fragments."""
    found = []
    if selection_set is None:
        return found
    seen = seen if seen is not None else set()
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            found.append(selection)
        elif isinstance(selection, InlineFragmentNode):
            found.extend(_fields(selection.selection_set, fragments, seen))
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name in seen or name not in fragments:
                continue
            seen.add(name)
            found.extend(_fields(fragments[name].selection_set, fragments, seen))
    return found


def selected(info, *path):
    """The names (not aliases) of the fields selected at `path` below the current field,
    across every occurrence of the field and every alias on the way: a set of strings."""
    nodes = list(info.field_nodes)
    for name in path:
        nodes = [f for node in nodes for f in _fields(node.selection_set, info.fragments) if f.name.value == name]
    return {f.name.value for node in nodes for f in _fields(node.selection_set, info.fragments)}
