"""``python -m simulator``: run the simulator from the command line."""

from __future__ import annotations

from simulator.cli import main

raise SystemExit(main())
