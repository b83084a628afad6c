"""The execution context: graphql-sync-dataloaders' deferred execution (batched
dataloaders in synchronous Django), adapted to graphql-core 3.2.14, whose
`handle_field_error` also takes the field's path (the library predates that)."""
from graphql.pyutils import Path
from graphql_sync_dataloaders import DeferredExecutionContext


def _path_of(error):
    path = None
    for key in error.path or ():
        path = Path(path, key, None)
    # An error without a path must not hide later errors: give it a unique position.
    return path if path is not None else Path(None, f"#{id(error)}", None)


class ExecutionContext(DeferredExecutionContext):
    def handle_field_error(self, error, return_type, path=None):
        return super().handle_field_error(error, return_type, path if path is not None else _path_of(error))
