"""Health checks behind `gnn-neo4j doctor`: each returns (ok, detail) and never raises."""

from __future__ import annotations

import importlib
import importlib.metadata
import urllib.error
import urllib.request
import warnings
from dataclasses import dataclass
from typing import Callable
from urllib.parse import urlparse

from gnn_neo4j.settings import Settings

# import name -> distribution name
PYTHON_PACKAGES = {
    "neo4j": "neo4j", "graphdatascience": "graphdatascience", "torch": "torch", "torch_geometric": "torch-geometric",
    "mlflow": "mlflow", "optuna": "optuna", "sklearn": "scikit-learn", "numpy": "numpy", "click": "click",
}


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def _guard(name: str, fn: Callable[[], str]) -> Check:
    try:
        return Check(name, True, fn())
    except Exception as exc:  # noqa: BLE001 - a doctor reports, it does not crash
        return Check(name, False, str(exc).splitlines()[0][:200] if str(exc) else exc.__class__.__name__)


def run_checks(settings: Settings) -> list[Check]:
    """Run every check in order; database checks are skipped (reported failed) when the server is unreachable."""
    from gnn_neo4j.db import GraphRunner
    from gnn_neo4j.server import java_version

    checks = [_guard("java", lambda: java_version() or _fail("java not found"))]
    runner: GraphRunner | None = None

    def connect() -> str:
        nonlocal runner
        candidate = GraphRunner(settings)
        try:
            candidate.verify()
        except Exception:
            candidate.close()
            raise
        runner = candidate
        rows = runner.read("CALL dbms.components() YIELD name, versions, edition RETURN name, versions[0] AS version, edition")
        return f"{settings.neo4j_uri} - {rows[0]['name']} {rows[0]['version']} {rows[0]['edition']}"

    checks.append(_guard("neo4j server", connect))
    for name, query in (
        ("gds.version()", "RETURN gds.version() AS v"),
        ("apoc.version()", "RETURN apoc.version() AS v"),
        ("gnn.version()", "RETURN gnn.version() AS v"),
    ):
        def call(query: str = query) -> str:
            if runner is None:
                raise RuntimeError("server not reachable")
            return str(runner.read(query)[0]["v"])

        checks.append(_guard(name, call))
    checks.append(_guard("browser", lambda: _browser(settings)))
    for package, distribution in PYTHON_PACKAGES.items():
        checks.append(_guard(f"python: {package}", lambda p=package, d=distribution: _package_version(p, d)))
    if runner is not None:
        runner.close()
    return checks


def _fail(message: str) -> str:
    raise RuntimeError(message)


def browser_url(settings: Settings) -> str:
    host = urlparse(settings.neo4j_uri).hostname or "127.0.0.1"
    port = settings.http_port if settings.uses_local_server else 7474
    return f"http://{host}:{port}/browser/"


def _browser(settings: Settings) -> str:
    url = browser_url(settings)
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - our own http URL
            if response.status != 200:
                raise RuntimeError(f"{url} answered {response.status}")
    except urllib.error.URLError as exc:
        raise RuntimeError(f"{url}: {exc.reason}") from exc
    return f"{url} 200"


def _package_version(package: str, distribution: str) -> str:
    with warnings.catch_warnings():  # import-time deprecation chatter of third-party packages
        warnings.simplefilter("ignore")
        importlib.import_module(package)
    return importlib.metadata.version(distribution)
