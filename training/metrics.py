"""Agreement between predicted scores and MOS: SRCC, PLCC, KRCC, RMSE."""
from __future__ import annotations

import numpy as np
from scipy import stats


def iqa_metrics(pred, mos) -> dict[str, float]:
    pred = np.asarray(pred, dtype=np.float64)
    mos = np.asarray(mos, dtype=np.float64)
    if len(pred) < 3 or np.ptp(pred) == 0:
        return {"srcc": float("nan"), "plcc": float("nan"), "krcc": float("nan"), "rmse": float(np.sqrt(np.mean((pred - mos) ** 2)))}
    return {
        "srcc": float(stats.spearmanr(pred, mos).statistic),
        "plcc": float(stats.pearsonr(pred, mos).statistic),
        "krcc": float(stats.kendalltau(pred, mos).statistic),
        "rmse": float(np.sqrt(np.mean((pred - mos) ** 2))),
    }
