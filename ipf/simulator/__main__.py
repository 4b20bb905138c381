"""``python -m ipf.simulator``."""

from ipf.simulator.cli import main

raise SystemExit(main())
