"""The benchmark's markdown: per base and site, both methods at every n on the same test photos
(SRCC before -> after, the gain with its 95 % paired bootstrap interval, what the product decided,
wall time, peak memory), then the fine-tune's validation SRCC per epoch (where over-fitting shows)."""
from __future__ import annotations

from app.core.stats import above_zero


def _ci(v) -> str:
    return f"[{v[0]:+.3f}, {v[1]:+.3f}]" if v else "[no interval]"


def _decision(method: str, r: dict) -> str:
    if method == "calibration":
        cv = r["cv"]
        return (f"{'Apply offered' if r['apply_offered'] else 'Apply stays off'} (nested CV gain "
                f"{cv['after'] - cv['before']:+.3f} {_ci(cv['gain_ci'])}); {r['describe']}")
    v = r["validation"]
    ci = r["test"].get("gain_ci")
    said = ("not registered" if not r["registered"] else "registered, advised (helps)" if above_zero(ci)
            else "registered as a candidate" if r["decision"].startswith("registered as a candidate") else "registered")
    recipe = f"; recipe: {r['recipe']['name']}" if r.get("recipe") else ""
    return f"{said}; epoch {v['epoch']} of {v['epochs_run']} chosen on validation{recipe}"


def results_table(title: str, results: list[dict]) -> list[str]:
    lines = [f"**{title}**", "",
             "| rated n (train / val) | test photos | method | SRCC before → after | gain [95 % paired] | the product decided | wall | peak memory |",
             "|---|---|---|---|---|---|---|---|"]
    for res in results:
        split = res["finetune"]["split"]
        for method in ("calibration", "finetune"):
            r = res[method]
            t = r["test"]
            name = "fine-tune" if method == "finetune" else "calibration"
            lines.append(f"| {res['n']} ({split['train']} / {split['val']}) | {t['n']} | {name} | {t['before']:.3f} → "
                         f"{t['after']:.3f} | {t['gain']:+.3f} {_ci(t['gain_ci'])} | {_decision(method, r)} | "
                         f"{r['seconds']:.0f} s | {r['peak_mb']:.0f} MB |")
    return lines


def curve_table(results: list[dict]) -> list[str]:
    epochs = max((len(r["finetune"]["curve"]) for r in results), default=0)
    lines = ["| rated n | val photos | start | " + " | ".join(f"ep {e + 1}" for e in range(epochs)) + " | s / epoch |",
             "|---|---|---|" + "---|" * epochs + "---|"]
    for res in results:
        ft = res["finetune"]
        curve = ft["curve"]
        cells = [f"{c['val_srcc']:.3f}" if "val_srcc" in c else "–" for c in curve] + ["–"] * (epochs - len(curve))
        chosen = ft["validation"]["epoch"]
        if chosen and 0 < chosen <= len(curve):
            cells[chosen - 1] = f"**{cells[chosen - 1]}**"
        per_epoch = sum(c.get("seconds", 0) for c in curve) / max(1, len(curve))
        start = ft["validation"]["start_srcc"]
        lines.append(f"| {res['n']} | {ft['validation']['n']} | {start:.3f} | " + " | ".join(cells) + f" | {per_epoch:.0f} s |")
    return lines


def markdown(title: str, results: list[dict]) -> str:
    return "\n".join(results_table(title, results) + ["", "Fine-tune: validation SRCC per epoch (bold: the epoch chosen)", ""]
                     + curve_table(results)) + "\n"
