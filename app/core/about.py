"""What Help → About says, Qt-free: the program's version, the model in force (its card in a few
lines, with the data credits the card carries), and the components the program runs on with
their licences.

The licences are read from each installed component's own metadata, for the components named in
``requirements/runtime.txt`` (which travels with a bundle too): a list kept by hand here would
drift from what is installed. Reading metadata touches files, so the window asks for these facts
off the GUI thread.
"""
from __future__ import annotations

import platform
import re
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from .. import __version__


@dataclass(frozen=True)
class Component:
    name: str
    version: str
    licence: str


@dataclass(frozen=True)
class AboutFacts:
    program_version: str
    model: list[tuple[str, str]]  # (what, value) of the model in force; empty without one
    credits: str  # the model card's ``credits`` field, as written ("" when it has none)
    runtime: list[tuple[str, str]]  # Python, Qt, ONNX Runtime, ... with their versions
    components: list[Component] = field(default_factory=list)


def model_summary(card: dict | None, path: str | Path | None = None) -> list[tuple[str, str]]:
    """The card in the lines a supervisor checks: which model, which version, how it reads photos,
    what it measured. Missing fields are left out, never shown as blanks."""
    if not card:
        return []
    rows = [("Model", str(card.get("name", "?"))), ("Version", str(card.get("version", "?")))]
    if card.get("created"):
        rows.append(("Created", str(card["created"])[:19].replace("T", " ")))
    if card.get("backbone"):
        views = card.get("views")
        rows.append(("Network", f"{card['backbone']}" + (f", {views} views" if views else "")
                     + (f", {card['parameters']:,} parameters" if isinstance(card.get("parameters"), int) else "")))
    if card.get("score_range"):
        low, high = card["score_range"]
        rows.append(("Scores", f"{low:g} to {high:g}, higher is better" if card.get("higher_is_better", True)
                     else f"{low:g} to {high:g}, lower is better"))
    for key in ("description", "status", "license"):
        if card.get(key):
            rows.append((key.capitalize() if key != "license" else "Licence", str(card[key])))
    if card.get("detail_model"):
        rows.append(("Detail reader", "a second network reads 100 % tiles (its own graph)"))
    # The card's measured rank agreement with people, where it has one ("SRCC ... ; the rest").
    accuracy = (card.get("evaluations") or {}).get("rated_accuracy") or {}
    rows += [(f"Accuracy on {name}", text.split(";")[0]) for name, text in accuracy.items()
             if isinstance(text, str) and text.startswith("SRCC")]
    metrics = card.get("metrics") or {}
    shown = ", ".join(f"{k} {v:.3f}" for k, v in metrics.items() if isinstance(v, (int, float)))
    if shown:
        rows.append(("Measured", shown))
    if card.get("sha256"):
        rows.append(("Graph sha256", str(card["sha256"])[:16] + "…"))
    if path:
        rows.append(("File", str(path)))
    return rows


_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def runtime_components(requirements: Path) -> list[str]:
    """The distributions a requirements file pins (``-r`` lines followed), in its order."""
    names: list[str] = []
    try:
        lines = requirements.read_text(encoding="utf-8").splitlines()
    except OSError:
        return names
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r"):
            names += [n for n in runtime_components(requirements.parent / line[2:].strip()) if n not in names]
        elif (found := _NAME.match(line)) and found.group(1) not in names:
            names.append(found.group(1))
    return names


def licence_of(name: str) -> Component:
    """A distribution's version and licence from its metadata: the SPDX expression, else the
    licence field, else the trove classifier. A bundle may carry no metadata: then it says so."""
    try:
        md = metadata.metadata(name)
    except metadata.PackageNotFoundError:
        return Component(name, "?", "not recorded in this build")
    text = md.get("License-Expression") or ""
    if not text:
        field_ = (md.get("License") or "").strip()
        text = field_.splitlines()[0][:80] if field_ and len(field_.splitlines()) == 1 else ""
    if not text:
        classifiers = [c.split(" :: ")[-1] for c in md.get_all("Classifier") or [] if c.startswith("License ::")]
        text = ", ".join(classifiers) or "see its distribution"
    return Component(md.get("Name", name), md.get("Version", "?"), text)


def about_facts(card: dict | None, model_path: str | Path | None, qt_version: str, requirements: Path) -> AboutFacts:
    """Everything About shows. ``qt_version`` comes from the window (the core imports no Qt)."""
    import onnxruntime

    runtime = [("Python", platform.python_version()), ("Qt", qt_version), ("ONNX Runtime", onnxruntime.__version__),
               ("System", f"{platform.system()} {platform.release()} ({platform.machine()})")]
    return AboutFacts(__version__, model_summary(card, model_path), str((card or {}).get("credits") or ""), runtime,
                      [licence_of(n) for n in runtime_components(requirements)])
