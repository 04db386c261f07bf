"""Groups sit below access: access calls them, they never import access or anything
above it (billing, learning, news, chat, bot)."""

import ast
from pathlib import Path

import parta.groups

ABOVE = (
    "parta.access",
    "parta.billing",
    "parta.learning",
    "parta.news",
    "parta.chat",
    "parta.bot",
)


def test_groups_never_import_the_apps_above_them():
    root = Path(parta.groups.__file__).parent
    found = []
    for path in root.rglob("*.py"):
        if "tests" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            found += [f"{path.name}: {n}" for n in names if n.startswith(ABOVE)]
    assert found == []
