"""Every command the documentation gives exists as written: its sub-commands and its options
are the program's own, and every script it names is in the repository. Docs that drift from the
code send a newcomer to a command that is not there."""
import contextlib
import io
import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", ROOT / "training" / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
PROGRAMS = {"./run.sh": "app", "python -m app": "app", "python -m training": "training"}
COMMAND = re.compile(r"(?:\.venv/bin/)?(\./run\.sh|python -m app|python -m training)((?: +[^`|#;&]*)?)")
SCRIPT = re.compile(r"\b((?:bench|scripts|training/recipes)/[A-Za-z_0-9]+\.(?:py|sh))\b")


def documented_commands():
    for doc in DOCS:
        for n, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), 1):
            for match in COMMAND.finditer(line):
                program = PROGRAMS[match.group(1)]
                try:
                    words = shlex.split(match.group(2))
                except ValueError:  # an unclosed quote in prose: the words up to it
                    words = match.group(2).split()
                words = [w.strip("[]") for w in words]  # optional parts, as usage lines write them
                yield pytest.param(program, words, id=f"{doc.relative_to(ROOT)}:{n}")


def help_text(program: str, words: list[str]) -> str:
    from app.__main__ import main as app_main
    from training.__main__ import main as training_main

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()), pytest.raises(SystemExit):
        (app_main if program == "app" else training_main)([*words, "--help"])
    return out.getvalue()


def subcommands(help_: str) -> set[str]:
    """The sub-commands an argparse help lists: ``{a,b,c}``."""
    found = re.search(r"\{([a-z0-9_,-]+)\}", help_)
    return set(found.group(1).split(",")) if found else set()


@pytest.mark.parametrize("program, words", list(documented_commands()))
def test_a_documented_command_and_its_options_exist(program, words):
    """Each option is looked up where it is written: ``python -m app --model M score --csv F``
    gives --model to the program and --csv to its sub-command."""
    path: list[str] = []
    help_ = help_text(program, path)
    missing, descending, value_next = set(), True, False
    for word in words:
        if value_next:  # the value of the option before it (``--model MODEL``), not a sub-command
            value_next = False
            continue
        if word.startswith("--"):
            name = word.split("=")[0]
            if name not in help_:
                missing.add(name)
            value_next = descending and "=" not in word and re.search(rf"{re.escape(name)} [A-Z][A-Z_]*", help_) is not None
            continue
        if word.startswith("-"):
            continue
        if descending and re.fullmatch(r"[a-z][a-z0-9-]*", word) and subcommands(help_):  # a sub-command's name, not a PATH
            assert word in subcommands(help_), f"{program} {' '.join(path)}: no sub-command {word!r}"
            path.append(word)
            help_ = help_text(program, path)
        else:
            descending = False  # an argument (a path, a placeholder): the sub-commands end here
    assert not missing, f"{program} {' '.join(path)}: no option {sorted(missing)}"


def test_every_script_the_docs_name_is_in_the_repository():
    named = {m.group(1) for doc in DOCS for m in SCRIPT.finditer(doc.read_text(encoding="utf-8"))}
    assert named, "the docs name no script: the pattern is wrong"
    assert sorted(s for s in named if not (ROOT / s).exists()) == []
