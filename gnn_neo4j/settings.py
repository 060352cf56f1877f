"""One frozen, typed settings object: defaults < config file < environment < flags.

Secrets (the Neo4j password) come from the environment, from a 0600 file, or - for the local server -
from the password file written at its first start. They are never accepted as command-line flags and
never printed: `Secret` hides its value in repr/str.
"""

from __future__ import annotations

import os
import stat
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Mapping

PACKAGE_ROOT = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_ROOT.parent


class SettingsError(ValueError):
    """Configuration is invalid (bad value, unreadable or too-open secret file)."""


class Secret:
    """A string that does not show itself in logs, reprs or tracebacks."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "gnn-neo4j"


@dataclass(frozen=True)
class Settings:
    """Everything the tool needs to know; build it with `load_settings`.

    The local server's files all live under ``data_dir``: ``neo4j/`` (conf, data, logs, run, password),
    ``mlflow.db`` + ``mlartifacts/``, ``optuna.db``.
    """

    data_dir: Path = field(default_factory=default_data_dir)
    neo4j_uri: str = "bolt://127.0.0.1:7687"
    neo4j_user: str = "neo4j"
    neo4j_password: Secret | None = None
    neo4j_password_file: Path | None = None
    neo4j_database: str = "neo4j"
    # local server (only used by `gnn-neo4j server ...`)
    neo4j_home: Path = REPO_ROOT / "neo4j-server" / "target" / "neo4j-home"
    bolt_port: int = 7687
    http_port: int = 7474
    heap_size: str = "768m"
    pagecache_size: str = "256m"
    start_timeout_s: float = 180.0
    stop_timeout_s: float = 60.0
    # learning / tracking
    mapping: str = "canonical"
    mlflow_tracking_uri: str | None = None
    optuna_storage: str | None = None
    batch_size: int = 10_000

    # ---- derived paths -------------------------------------------------------------------------
    @property
    def server_dir(self) -> Path:
        return self.data_dir / "neo4j"

    @property
    def local_password_file(self) -> Path:
        return self.server_dir / "password"

    @property
    def uses_local_server(self) -> bool:
        """True when the URI points at the server `gnn-neo4j server start` runs."""
        return self.neo4j_uri.rstrip("/") in (
            f"bolt://127.0.0.1:{self.bolt_port}", f"neo4j://127.0.0.1:{self.bolt_port}",
            f"bolt://localhost:{self.bolt_port}", f"neo4j://localhost:{self.bolt_port}",
        )

    @property
    def tracking_uri(self) -> str:
        return self.mlflow_tracking_uri or f"sqlite:///{self.data_dir / 'mlflow.db'}"

    @property
    def optuna_storage_url(self) -> str:
        return self.optuna_storage or f"sqlite:///{self.data_dir / 'optuna.db'}"

    def password(self) -> str:
        """The Neo4j password: explicit secret, else password file, else the local server's file.

        Raises:
            SettingsError: when no password is known or a password file is readable by others.
        """
        if self.neo4j_password is not None:
            return self.neo4j_password.get()
        for candidate in (self.neo4j_password_file, self.local_password_file):
            if candidate is not None and candidate.exists():
                return read_secret_file(candidate)
        raise SettingsError(
            "no Neo4j password: set NEO4J_PASSWORD or NEO4J_PASSWORD_FILE, or start the local server "
            "with `gnn-neo4j server start` (it generates one)"
        )

    def describe(self) -> dict[str, str]:
        """Settings as strings for display; secrets are masked."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = "***" if isinstance(value, Secret) else ("" if value is None else str(value))
        return out


def read_secret_file(path: Path) -> str:
    """Read a secret from a file that only its owner can read (mode 0600 or stricter)."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise SettingsError(f"cannot read secret file {path}: {exc.strerror}") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SettingsError(f"secret file {path} is readable by others (mode {oct(mode & 0o777)}); chmod 600 it")
    value = path.read_text(encoding="utf-8").strip()
    if not value:
        raise SettingsError(f"secret file {path} is empty")
    return value


def write_secret_file(path: Path, value: str) -> None:
    """Create ``path`` with mode 0600 from the start (no window where it is world-readable)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(value + "\n")
    os.chmod(path, 0o600)


# environment variable -> settings field
ENVIRONMENT = {
    "GNN_NEO4J_DATA_DIR": "data_dir",
    "NEO4J_URI": "neo4j_uri",
    "NEO4J_USER": "neo4j_user",
    "NEO4J_USERNAME": "neo4j_user",
    "NEO4J_PASSWORD": "neo4j_password",
    "NEO4J_PASSWORD_FILE": "neo4j_password_file",
    "NEO4J_DATABASE": "neo4j_database",
    "GNN_NEO4J_HOME": "neo4j_home",
    "GNN_NEO4J_BOLT_PORT": "bolt_port",
    "GNN_NEO4J_HTTP_PORT": "http_port",
    "GNN_NEO4J_HEAP": "heap_size",
    "GNN_NEO4J_PAGECACHE": "pagecache_size",
    "GNN_NEO4J_START_TIMEOUT": "start_timeout_s",
    "GNN_NEO4J_MAPPING": "mapping",
    "MLFLOW_TRACKING_URI": "mlflow_tracking_uri",
    "GNN_NEO4J_OPTUNA_STORAGE": "optuna_storage",
    "GNN_NEO4J_BATCH_SIZE": "batch_size",
}
# keys a config file may not set: secrets stay out of plain config files
_NOT_IN_CONFIG = {"neo4j_password"}


def _coerce(name: str, value: Any) -> Any:
    types = {f.name: f.type for f in fields(Settings)}
    if name not in types:
        raise SettingsError(f"unknown setting {name!r}")
    kind = str(types[name])
    try:
        if value is None:
            return None
        if "Secret" in kind:
            return value if isinstance(value, Secret) else Secret(str(value))
        if "Path" in kind:
            return Path(str(value)).expanduser()
        if kind.startswith("int"):
            return int(value)
        if kind.startswith("float"):
            return float(value)
        return str(value)
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"setting {name}: invalid value {value!r}") from exc


def load_settings(
    config_file: Path | None = None,
    env: Mapping[str, str] | None = None,
    **flags: Any,
) -> Settings:
    """Build settings from defaults, a TOML config file, the environment and flags (in that order).

    The config file is ``config_file``, else ``$GNN_NEO4J_CONFIG``, else ``<data_dir>/config.toml`` if present.
    Flags whose value is None are ignored (click passes unset options as None).
    """
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    env_values = {field_name: env[var] for var, field_name in ENVIRONMENT.items() if env.get(var)}
    data_dir = Path(flags.get("data_dir") or env_values.get("data_dir") or default_data_dir()).expanduser()
    path = config_file or (Path(env["GNN_NEO4J_CONFIG"]) if env.get("GNN_NEO4J_CONFIG") else None)
    if path is None and (data_dir / "config.toml").exists():
        path = data_dir / "config.toml"
    if path is not None:
        try:
            raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise SettingsError(f"config file {path}: {exc}") from exc
        section = raw.get("gnn_neo4j", raw)
        for key, value in section.items():
            if key in _NOT_IN_CONFIG:
                raise SettingsError(f"config file {path}: {key} may not be set in a config file; use NEO4J_PASSWORD or NEO4J_PASSWORD_FILE")
            values[key] = _coerce(key, value)
    for key, value in env_values.items():
        values[key] = _coerce(key, value)
    for key, value in flags.items():
        if value is not None:
            if key in _NOT_IN_CONFIG:
                raise SettingsError("the Neo4j password is never taken from a flag; use NEO4J_PASSWORD or NEO4J_PASSWORD_FILE")
            values[key] = _coerce(key, value)
    if "neo4j_uri" not in values:
        values["neo4j_uri"] = f"bolt://127.0.0.1:{values.get('bolt_port', Settings.bolt_port)}"
    settings = replace(Settings(), **values)
    _validate(settings)
    return settings


def _validate(settings: Settings) -> None:
    if not settings.neo4j_uri.split("://", 1)[0] in ("bolt", "neo4j", "bolt+s", "neo4j+s", "bolt+ssc", "neo4j+ssc"):
        raise SettingsError(f"NEO4J_URI {settings.neo4j_uri!r} must start with bolt://, neo4j:// (or +s / +ssc)")
    for port in (settings.bolt_port, settings.http_port):
        if not 0 < port < 65536:
            raise SettingsError(f"port {port} out of range")
    if settings.batch_size < 1:
        raise SettingsError("batch_size must be >= 1")
