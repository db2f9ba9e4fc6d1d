"""The recorded recipes still run as written: shell syntax, commands the CLI has, files they name."""
import argparse
import re
import subprocess
from pathlib import Path

import pytest

from training import commands

REPO = Path(__file__).resolve().parents[2]
RECIPES = sorted((REPO / "training" / "recipes").glob("*.sh"))


def _training_commands() -> set[str]:
    sub = argparse.ArgumentParser().add_subparsers(dest="command")
    for register in commands.REGISTRY:
        register(sub)
    return set(sub.choices)


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda p: p.name)
def test_a_recipe_is_valid_shell_and_calls_only_what_exists(recipe):
    subprocess.run(["bash", "-n", str(recipe)], check=True)
    text = recipe.read_text()
    known = _training_commands()
    for command in re.findall(r"-m training ([a-z][a-z-]*)", text):
        assert command in known, f"{recipe.name}: python -m training {command} does not exist"
    for path in re.findall(r"(?:training|bench)/[\w/.-]+\.(?:sh|json|py)", text):
        assert (REPO / path).exists(), f"{recipe.name} names {path}, which is not there"
