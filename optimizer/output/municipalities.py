"""One row per municipality: its area, whether it leads, its distance to the lead, its figures.

The interactive map's tooltips, the GeoPackage's municipality layer and the
report's tables all read this frame, so they cannot disagree.
"""

from __future__ import annotations

import numpy as np

from ..data.plan import OUTSIDE, UNASSIGNED, Plan
from ..model.evaluate import PlanFigures
from .text import LABELS


def label(attribute: str) -> str:
    """A column heading in words (`labour_force` → `labour force`)."""
    return LABELS.get(attribute, attribute.replace("_", " "))


def municipality_frame(plan: Plan, figs: PlanFigures):
    """A pandas DataFrame in instance order: code, name, lead_code, lead_name, is_lead,
    lead_outside, km_to_lead (NaN when the lead is outside the instance or none is
    assigned; by road with a travel-time file, else straight), minutes_to_lead (with a
    travel-time file only) and the attributes the figures show."""
    import pandas as pd

    inst = plan.instance
    lead_code, lead_name, km = [], [], np.full(inst.n, np.nan)
    minutes = np.full(inst.n, np.nan) if inst.minutes is not None else None
    for i in range(inst.n):
        j = int(plan.lead[i])
        if j == UNASSIGNED:
            lead_code.append("")
            lead_name.append("")
            continue
        code, name = plan.lead_label(plan.lead_key(i))
        lead_code.append(code)
        lead_name.append(name)
        if j != OUTSIDE:
            km[i] = inst.km[i, j]
            if minutes is not None:
                minutes[i] = inst.minutes[i, j]
    frame = pd.DataFrame({
        "code": list(inst.codes), "name": list(inst.names),
        "lead_code": lead_code, "lead_name": lead_name,
        "is_lead": [int(plan.lead[i]) == i for i in range(inst.n)],
        "lead_outside": [int(plan.lead[i]) == OUTSIDE for i in range(inst.n)],
        "km_to_lead": np.where(np.isfinite(km), km, np.nan),
    })
    if minutes is not None:
        frame["minutes_to_lead"] = np.where(np.isfinite(minutes), minutes, np.nan)
    for attr in figs.attributes:
        frame[attr] = inst.attribute(attr)
    return frame
