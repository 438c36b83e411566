"""What the fee schedule tells the apps built on it; they connect in their ``AppConfig.ready()``.

fees sits at the bottom of the apps (see docs/architecture.md), so it never imports them:

- :data:`data_loaded` is sent inside a load's transaction, after a CMS release or an HCPCS Level II file was
  written; receivers rebuild what they derive from the fee rows (the code search index), so the load stays all
  or nothing.
- :data:`first_start` is sent by ``rvuedge serve`` once the data is in place; receivers load what they ship
  with the code when none of it is loaded yet (the editorial code pages), writing progress to ``stdout``.
"""

from django.dispatch import Signal

data_loaded = Signal()  # kwargs: release (a Release or HcpcsRelease)
first_start = Signal()  # kwargs: stdout
