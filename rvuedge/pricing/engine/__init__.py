"""The Medicare PFS pricing and wRVU-crediting engine (pfs-rules sections 2-5). Pure Python, no Django.

``price_encounter(encounter, lookup)`` follows the order of operations in pfs-rules 3.2:

1. resolve each line's row (26/TC/53 rows) and validate modifiers against PCTC/BILAT/ASST/CO/TEAM;
2. status gate (1.4, 3.4): non-payable lines get 0 or null and never enter ranking;
3. FSA per unit with the setting's PE (NA -> other setting + flag), floored work GPCI, CF by QP status;
4. OPPS imaging cap (the OPPSCAP file's price, or computed from the PPRRVU OPPS columns without one; both
   settings; a fixture's cap is non-facility); 5. bilateral adjustment;
6. family reductions: endoscopy (MULT 3), imaging per session (4, separate TC and PC rankings),
   cardiovascular (6) and ophthalmology (7) TC cuts, therapy PE cut (5);
7. standard surgical ranking (MULT 2 + collapsed endoscopy families), per claim role, 100/50/50/50/50,
   6th+ by report; 8. surgical role (62/66/80/81/82/AS); 9. global split (54/55/56, 78);
10. provider type (NPP 85%); 11. multiply and round once per line (unit by unit where factors differ);
12. wRVU credit from the same arithmetic with the policy's factors.

Each line keeps a payment explanation and a wRVU explanation whose last amounts equal the results.

Internally a line holds *parts* (:class:`rvuedge.pricing.model.Part`: units, base amount, payment factor, work RVU,
credit factor, by report).
Ranking takes each part as a *run* of equal units: a run of n units holds n consecutive ranks and is split only
where the rate changes (first unit 100%, then 50%, 6th+ by report), never into one part per unit, so no rule
costs more for 999 units than for 2 (``steps._runs``, ``steps._split``, ``steps._Ranks``;
tests/pricing/test_unit_runs.py checks it against the per-unit engine it replaced). Parts with equal values are
merged again before rounding.

The package, by stage (each module imports only the ones above it):

- ``constants``  CFs, floors, rule factors, modifier kinds, status texts
- ``context``    the encounter's context (GPCIs, CFs, floors, setting, OPPS source) and per-row cached amounts
- ``steps``      shared pieces: part arithmetic, explanation steps, scaling/denial, unit runs and ranks
- ``resolve``    one line: modifiers, row, status gate, FSA, OPPS cap, bilateral, role, split, provider
- ``ranking``    the multiple-procedure ranking
- ``cross_line`` claim checks and the family rules across lines (status T, RT/LT, endoscopy, TC cuts, therapy)
- ``finish``     later factors, rounding, credit, the closing explanation steps
- ``encounter``  ``price_encounter``: the stages in order, totals, frozen/blended release credit
"""

from __future__ import annotations

from .constants import CF_TABLE, MODIFIER_KINDS, NEUTRAL_MODIFIERS, REJECT_STATUS, WORK_FLOOR_END
from .encounter import price_encounter

__all__ = ["CF_TABLE", "MODIFIER_KINDS", "NEUTRAL_MODIFIERS", "REJECT_STATUS", "WORK_FLOOR_END", "price_encounter"]
