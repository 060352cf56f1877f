"""Error types the CLI reports as one clear line (exit code 1) instead of a traceback."""

from __future__ import annotations

from gnn_neo4j.db import DatabaseError
from gnn_neo4j.mapping import MappingError
from gnn_neo4j.server import ServerError
from gnn_neo4j.settings import SettingsError


class GnnError(RuntimeError):
    """A failure the user can act on (bad input, nothing to train on, ...)."""


def _import_error_types() -> tuple[type[BaseException], ...]:
    try:
        from gnn_neo4j.importers.errors import GraphImportError
    except ImportError:
        return ()
    return (GraphImportError,)


USER_ERRORS: tuple[type[BaseException], ...] = (
    GnnError, DatabaseError, MappingError, ServerError, SettingsError, *_import_error_types(),
)
