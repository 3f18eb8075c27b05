"""Runtime and development requirements, split and pinned.

``requirements.txt`` is what production runs (the image installs it alone, with
``--no-deps``); ``requirements-dev.txt`` adds the test and development tools on
top of it (``-r requirements.txt``), and is what ``scripts/_env.sh`` installs
into ``.venv``. These tests hold the split to the code:

- every import of the apps, ``portal`` and the deploy files, and every dotted
  path the settings name, resolves to the standard library, the project, or a
  package in requirements.txt; every command the app services run is a script
  of one of those packages;
- each file is closed: every dependency of a package it pins is pinned too
  (requirements.txt on its own, requirements-dev.txt with it), so
  ``pip install --no-deps`` builds a working environment;
- no test tool is in requirements.txt, every line is pinned with ``==``.

The dependency facts come from the installed distributions' metadata, so the
tests also check that ``.venv`` holds exactly the pinned versions.
"""

import ast
import re
import sys
from functools import cache
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from packaging.markers import default_environment
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
RUNTIME = ROOT / "requirements.txt"
DEV = ROOT / "requirements-dev.txt"
# What production runs: the apps, their wiring, and the files the image starts them with.
RUNTIME_SOURCES = ["portal", "indicators", "feedback", "review", "deploy", "manage.py", "gunicorn.conf.py"]
LOCAL_PACKAGES = {"portal", "indicators", "feedback", "review", "deploy", "tests", "bench", "tools"}
# Tools that test, lint or fake services: never in the production image.
TEST_TOOLS = {
    "pytest",
    "factory-boy",
    "faker",
    "ruff",
    "hypothesis",
    "schemathesis",
    "moto",
    "flask",
    "flask-cors",
    "responses",
    "coverage",
    "mypy",
    "pyinstrument",
}
PINNED = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9_,-]+\])?==[A-Za-z0-9.+!-]+$")
DOTTED = re.compile(r"^[a-z_][a-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+(:[A-Za-z_][A-Za-z0-9_]*)?$")


def _name(name: str) -> str:
    """PEP 503's normalised name: ``Faker``, ``factory_boy`` → ``faker``, ``factory-boy``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _lines(path: Path) -> list[str]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line]


def _pins(path: Path) -> dict[str, Requirement]:
    """The requirements a file pins itself (not those of a file it includes)."""
    return {_name(req.name): req for req in (Requirement(line) for line in _lines(path) if line[0] != "-")}


@cache
def _distributions_of_module() -> dict[str, set[str]]:
    return {module: {_name(d) for d in dists} for module, dists in metadata.packages_distributions().items()}


def _sources() -> list[Path]:
    files: list[Path] = []
    for entry in RUNTIME_SOURCES:
        path = ROOT / entry
        files.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    return files


def _imports(path: Path) -> set[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update((alias.name.split(".")[0], node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add((node.module.split(".")[0], node.lineno))
    return found


def _settings_paths() -> set[tuple[str, int]]:
    """Top modules of the dotted paths the settings name (apps, middleware, backends …)."""
    path = ROOT / "portal" / "settings.py"
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    # Pieces of f-strings are file names and URLs ("db.sqlite3"), not modules.
    fstrings = [node for node in ast.walk(tree) if isinstance(node, ast.JoinedStr)]
    in_fstrings = {id(inner) for node in fstrings for inner in ast.walk(node)}
    return {
        (node.value.split(".")[0], node.lineno)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in in_fstrings
        and DOTTED.match(node.value)
    }


def _unresolved(modules: set[tuple[str, int]], allowed: set[str], where: str) -> list[str]:
    missing = []
    for module, line in sorted(modules):
        if module in sys.stdlib_module_names or module in LOCAL_PACKAGES or module == "__future__":
            continue
        dists = _distributions_of_module().get(module)
        if not dists:
            missing.append(f"{where}:{line} {module}: no installed package provides it")
        elif not dists & allowed:
            missing.append(f"{where}:{line} {module}: from {', '.join(sorted(dists))}, not in requirements")
    return missing


def _dependencies(req: Requirement) -> list[Requirement]:
    """What the installed distribution declares it needs, for the extras asked for."""
    needed = []
    for line in metadata.requires(req.name) or []:
        dependency = Requirement(line)
        if dependency.marker is None or any(
            dependency.marker.evaluate({**default_environment(), "extra": extra})
            for extra in {"", *req.extras}
        ):
            needed.append(dependency)
    return needed


def _unpinned_dependencies(roots: list[Requirement], pinned: set[str]) -> list[str]:
    """Dependencies of the roots, and of theirs with the extras they ask for, that are not pinned."""
    missing, seen = [], set()
    queue = list(roots)
    while queue:
        req = queue.pop()
        key = (_name(req.name), frozenset(req.extras))
        if key in seen:
            continue
        seen.add(key)
        for dependency in _dependencies(req):
            if _name(dependency.name) in pinned:
                queue.append(dependency)
            else:
                missing.append(f"{req.name}{sorted(req.extras) or ''} needs {dependency.name}")
    return sorted(set(missing))


# --- The files themselves --------------------------------------------------------------


@pytest.mark.parametrize("path", [RUNTIME, DEV], ids=lambda p: p.name)
def test_every_line_is_pinned(path):
    loose = [line for line in _lines(path) if line != "-r requirements.txt" and not PINNED.match(line)]
    assert not loose, f"{path.name}: not pinned with ==: {loose}"


def test_the_development_file_builds_on_the_runtime_one_and_repeats_none_of_it():
    assert "-r requirements.txt" in _lines(DEV)
    assert not [line for line in _lines(RUNTIME) if line.startswith("-")], "requirements.txt includes nothing"
    both = set(_pins(RUNTIME)) & set(_pins(DEV))
    assert not both, f"pinned in both files: {sorted(both)}"


def test_no_test_tool_is_a_runtime_requirement():
    runtime = set(_pins(RUNTIME))
    tools = {name for name in runtime if name in TEST_TOOLS or name.startswith("pytest")}
    assert not tools, f"test tools in requirements.txt (move them to requirements-dev.txt): {sorted(tools)}"


@pytest.mark.parametrize("path", [RUNTIME, DEV], ids=lambda p: p.name)
def test_the_environment_holds_exactly_the_pinned_versions(path):
    wrong = {}
    for name, req in _pins(path).items():
        try:
            installed = metadata.version(req.name)
        except metadata.PackageNotFoundError:
            installed = None
        if installed is None or not req.specifier.contains(installed, prereleases=True):
            wrong[name] = (str(req.specifier), installed)
    assert not wrong, f"{path.name}: .venv differs from the pins (wanted, installed): {wrong}"


# --- The runtime file against the code ---------------------------------------------------


def test_every_import_of_the_apps_is_a_runtime_requirement():
    runtime = set(_pins(RUNTIME))
    missing = [
        problem
        for path in _sources()
        for problem in _unresolved(_imports(path), runtime, str(path.relative_to(ROOT)))
    ]
    assert not missing, "Imports production cannot satisfy:\n" + "\n".join(missing)


def test_every_module_the_settings_name_is_a_runtime_requirement():
    missing = _unresolved(_settings_paths(), set(_pins(RUNTIME)), "portal/settings.py")
    assert not missing, "Settings name modules production cannot import:\n" + "\n".join(missing)


def test_the_app_services_commands_come_from_runtime_requirements():
    declared = yaml.safe_load((ROOT / "deploy" / "processes.yaml").read_text(encoding="utf-8"))
    scripts = {entry.name: _name(entry.dist.name) for entry in metadata.entry_points(group="console_scripts")}
    runtime = set(_pins(RUNTIME))
    commands = [
        steps[0]
        for service in declared["services"].values()
        if service.get("app")
        for steps in ([service["command"]] if "command" in service else service["once"])
    ]
    assert commands, "no app service found in deploy/processes.yaml"
    foreign = [c for c in commands if c != "python" and scripts.get(c) not in runtime]
    assert not foreign, f"app commands not installed by requirements.txt: {foreign}"


@pytest.mark.parametrize(("path", "base"), [(RUNTIME, None), (DEV, RUNTIME)], ids=["runtime", "dev"])
def test_every_dependency_of_a_pinned_package_is_pinned(path, base):
    pinned = set(_pins(path)) | (set(_pins(base)) if base else set())
    missing = _unpinned_dependencies(list(_pins(path).values()), pinned)
    assert not missing, f"{path.name} is not closed (--no-deps would break):\n" + "\n".join(missing)


def test_redis_py_parses_and_packs_with_hiredis():
    # requirements.txt pins hiredis for the page cache's hits (one MGET each); redis-py only
    # uses it when it imports and is recent enough, and falls back silently otherwise.
    from redis.utils import HIREDIS_AVAILABLE  # noqa: PLC0415 - the installed client, read here

    assert HIREDIS_AVAILABLE, "redis-py does not use hiredis (missing, or older than it accepts)"


# --- The checks can fail ---------------------------------------------------------------


def test_the_import_check_names_a_package_outside_the_runtime_file(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("import json\nimport hypothesis\nfrom feedback import api\n", encoding="utf-8")
    problems = _unresolved(_imports(module), set(_pins(RUNTIME)), "m.py")
    assert problems == ["m.py:2 hypothesis: from hypothesis, not in requirements"]


def test_the_closure_check_follows_extras():
    # celery[redis] needs kombu[redis], which needs redis: leave redis out and it is named.
    assert _unpinned_dependencies([Requirement("celery[redis]==5.7.0")], set(_pins(RUNTIME)) - {"redis"}) == [
        "kombu['redis'] needs redis"
    ]
    assert _unpinned_dependencies([Requirement("celery==5.7.0")], set(_pins(RUNTIME)) - {"redis"}) == []
