"""No module imports another app's private names (CONTRACTS: layering). A name or module starting with one
underscore is its app's own business: another app that needs it asks for a public one instead. Tests under
`tests/<app>/` may reach into `<app>` (they test its internals); `bench/` and other tests may not."""

import ast
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The top-level packages import-linter holds in layers.
APPS = tuple(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["root_packages"])


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _owner(path: Path) -> str:
    """The app a file belongs to: its top folder, or `<app>` for a test under tests/<app>/."""
    parts = path.relative_to(ROOT).parts
    if parts[0] == "tests" and len(parts) > 2 and parts[1] in APPS:
        return parts[1]
    return parts[0]


def _is_module(dotted: str) -> bool:
    path = ROOT.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def private_uses(source: str, *, owner: str) -> list[str]:
    """The uses, in code of app `owner`, of another app's private names: `from app.x import _name`,
    `import app._module`, `from app import _module`, and `module._name` on another app's module bound by an
    import."""
    found = []
    foreign_modules: dict[str, str] = {}  # local name -> dotted module of another app

    def foreign(dotted: str) -> bool:
        return dotted.split(".")[0] in APPS and dotted.split(".")[0] != owner

    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if not foreign(alias.name):
                    continue
                if any(_private(part) for part in alias.name.split(".")):
                    found.append(f"{node.lineno}: import {alias.name}")
                if alias.asname:
                    foreign_modules[alias.asname] = alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and foreign(node.module):
            for alias in node.names:
                dotted = f"{node.module}.{alias.name}"
                if any(_private(part) for part in dotted.split(".")):
                    found.append(f"{node.lineno}: from {node.module} import {alias.name}")
                if _is_module(dotted):
                    foreign_modules[alias.asname or alias.name] = dotted
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in foreign_modules
            and _private(node.attr)
        ):
            found.append(f"{node.lineno}: {foreign_modules[node.value.id]}.{node.attr}")
    return found


def _python_files() -> list[Path]:
    return sorted(
        path
        for top in (*APPS, "tests", "bench")
        for path in (ROOT / top).rglob("*.py")
        if "migrations" not in path.parts
    )


def test_no_module_uses_another_apps_private_names():
    offenders = {
        str(path.relative_to(ROOT)): uses
        for path in _python_files()
        if (uses := private_uses(path.read_text(), owner=_owner(path)))
    }
    assert offenders == {}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from listings.services import _walmart_client\n", ["1: from listings.services import _walmart_client"]),
        ("from walmart_client._gc import gc_paused\n", ["1: from walmart_client._gc import gc_paused"]),
        ("import listings._internal\n", ["1: import listings._internal"]),
        ("from listings import services\nservices._walmart_client(None)\n", ["2: listings.services._walmart_client"]),
        ("import listings.services as listing_services\nlisting_services._x\n", ["2: listings.services._x"]),
        ("from orders.services import _own\n", []),  # orders' own private name
        ("from listings.services import product_create\n", []),
        ("from listings.models import Product\nProduct.__name__\n", []),
    ],
)
def test_the_check_finds_each_kind_of_private_use(source, expected):
    assert private_uses(source, owner="orders") == expected
