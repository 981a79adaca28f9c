"""ConfigDB lookups with a default (pyuvm raises for a missing key)."""
from __future__ import annotations

from pyuvm import ConfigDB


def knob(name, default):
    """The run-time knob ``name`` from ConfigDB (set by the test for "*"), or ``default``."""
    try:
        return ConfigDB().get(None, "", name)
    except Exception:  # noqa: BLE001 - pyuvm raises its own type for a missing key
        return default
