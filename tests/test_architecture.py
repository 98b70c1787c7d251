"""The layers of `components/`: each part imports only the layers under it, and only the Streamlit
layers import streamlit. The order is written once here and once in the README ("Layout")."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT

COMPONENTS = PROJECT_ROOT / "components"

# Bottom to top. A part may import the parts of any layer below its own, and the other modules of
# its own package; never a part beside it in its layer, never one above.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors", "text", "colors", "results", "memory", "settings", "signatures", "models", "session_store"),
    ("images", "drawing", "vlm", "local_models", "clarifai"),
    ("tasks", "navigation"),
    ("run",),
    ("outputs",),
    ("views",),
    ("ui",),
)
BASE = LAYERS[0]
STREAMLIT_LAYERS = ("views", "ui")
MAX_MODULES_DIRECTLY_IN_COMPONENTS = 12
MAX_MODULE_LINES = 600


def _part(module: str) -> str | None:
    """The part of `components` a dotted module name belongs to ("components.run.backend" -> "run")."""
    names = module.split(".")
    return names[1] if names[0] == "components" and len(names) > 1 else None


def _layer(part: str) -> int:
    return next(number for number, layer in enumerate(LAYERS) if part in layer)


def _imported(path: Path) -> set[str]:
    """The components modules `path` imports at run time (imports only for type checkers are left out)."""
    tree = ast.parse(path.read_text(), str(path))
    typing_only = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING")
        for inner in ast.walk(node)
    }
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("components")}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("components"):
            module = node.module or ""
            found |= {f"{module}.{alias.name}" if module == "components" else module for alias in node.names}
    return found


def _is_module(part: str) -> bool:
    """A module directly in components, rather than a package."""
    return (COMPONENTS / f"{part}.py").is_file()


def _modules() -> list[Path]:
    return sorted(COMPONENTS.rglob("*.py"))


def _part_of(path: Path) -> str:
    relative = path.relative_to(COMPONENTS)
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


def violations(path: Path, own: str) -> list[str]:
    """Imports in `path`, a module of part `own`, that do not run down the layers."""
    found = []
    for module in sorted(_imported(path)):
        part = _part(module)
        if part is None or part == own or (_is_module(part) and _is_module(own) and _layer(part) == _layer(own)):
            continue  # its own package, or modules directly in components on one layer (models uses errors)
        if _layer(part) >= _layer(own):
            found.append(f"{path.name} imports {module} ({part} is not under {own})")
    return found


def test_every_part_of_components_is_in_a_layer():
    parts = {_part_of(path) for path in _modules()} - {"__init__"}
    layered = {part for layer in LAYERS for part in layer}
    assert parts == layered, f"not in LAYERS: {sorted(parts - layered)}; gone: {sorted(layered - parts)}"


def test_each_part_imports_only_the_layers_under_it():
    found = [
        f"{path.relative_to(PROJECT_ROOT)}: {v}"
        for path in _modules()
        if _part_of(path) != "__init__"
        for v in violations(path, _part_of(path))
    ]
    assert found == []


def test_the_check_sees_imports_that_run_up_or_sideways(tmp_path):
    source = tmp_path / "render.py"
    source.write_text(
        "from components.run.backend import RunPlan\nfrom components.images import preparation\n"
        "from components.drawing.masks import mask_as_bool\nfrom components import colors\n"
    )
    assert violations(source, "drawing") == [
        "render.py imports components.images (images is not under drawing)",
        "render.py imports components.run.backend (run is not under drawing)",
    ]
    assert violations(source, "ui") == []


def test_imports_for_type_checkers_only_do_not_count(tmp_path):
    source = tmp_path / "typed.py"
    source.write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from components.run.backend import RunPlan\n"
        "from components.results import Prediction\n"
    )
    assert _imported(source) == {"components.results"}


def test_components_shows_its_packages():
    direct = [path for path in COMPONENTS.glob("*.py")]
    assert len(direct) <= MAX_MODULES_DIRECTLY_IN_COMPONENTS, sorted(p.name for p in direct)
    packages = sorted(p.name for p in COMPONENTS.iterdir() if (p / "__init__.py").is_file())
    assert set(packages) == {part for layer in LAYERS[1:] for part in layer if (COMPONENTS / part).is_dir()}
    for package in packages:
        docstring = ast.get_docstring(ast.parse((COMPONENTS / package / "__init__.py").read_text()))
        assert docstring and "import" in docstring.lower(), f"components/{package}/__init__.py does not say what it may import"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(COMPONENTS)))
def test_no_module_is_over_600_lines(path):
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_MODULE_LINES, f"{path.relative_to(COMPONENTS)} has {lines} lines"


def _imports_streamlit(path: Path) -> bool:
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(alias.name.split(".")[0] == "streamlit" for alias in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "streamlit":
            return True
    return False


def test_only_the_streamlit_layers_import_streamlit():
    offenders = [
        str(path.relative_to(PROJECT_ROOT))
        for path in _modules()
        if _imports_streamlit(path) and _part_of(path) not in STREAMLIT_LAYERS
    ]
    assert offenders == []
    assert _imports_streamlit(COMPONENTS / "ui" / "page.py")  # the check can see an import


def test_no_pages_folder_beside_the_entry_file():
    """A `pages/` folder beside streamlit_app.py makes Streamlit take its older multipage route on a
    cold process (deep links lose the entry file, AppTest skips it): the pages live in app_pages/."""
    assert not (PROJECT_ROOT / "pages").exists()
    assert (PROJECT_ROOT / "app_pages").is_dir()
