"""Per-request batching. Resolvers ask a loader for keys; the loader runs one query for
all keys requested in the same execution pass (graphql-sync-dataloaders)."""
from graphql_sync_dataloaders import SyncDataLoader


class DataLoader(SyncDataLoader):
    """Subclass and implement `batch_load(keys) -> list of values in key order`.
    Get the request's instance with `Loader.for_request(info)`."""

    def __init__(self, context):
        self.context = context
        super().__init__(self._batch_load_or_fail)

    def _batch_load_or_fail(self, keys):
        """A failing batch fails each requested field (a field error), not the request."""
        try:
            return self.batch_load(keys)
        except Exception as exc:
            return [exc] * len(keys)

    @classmethod
    def for_request(cls, info):
        context = info.context
        loaders = getattr(context, "_dataloaders", None)
        if loaders is None:
            loaders = {}
            context._dataloaders = loaders
        loader = loaders.get(cls)
        if loader is None:
            loader = loaders[cls] = cls(context)
        return loader

    def batch_load(self, keys):
        raise NotImplementedError

    def load(self, key):
        if getattr(self.context, "_immediate_loaders", False):
            # Fallback execution (see marketplace.api.execution): load now, unbatched.
            (value,) = self.batch_load([key])
            if isinstance(value, Exception):
                raise value
            return value
        return super().load(key)


def group_by(items, key):
    grouped = {}
    for item in items:
        grouped.setdefault(key(item), []).append(item)
    return grouped


def then(value, fn):
    """Map a loader result: `then(Loader.for_request(info).load(key), fn)`. Works on plain
    values too. `fn` must not load again (chain loaders through separate fields)."""
    from graphql_sync_dataloaders import SyncFuture

    if not isinstance(value, SyncFuture):
        return fn(value)
    if value.done():
        return fn(value.result())
    mapped = SyncFuture()
    mapped.deferred_callback = value.deferred_callback  # the executor dispatches the batch through it

    def finish():
        try:
            mapped.set_result(fn(value.result()))
        except Exception as exc:  # surfaces as the field's error
            mapped.set_exception(exc)

    value.add_done_callback(finish)
    return mapped
