"""Run the simulator: ``python -m simulator --port 0``."""

import sys

from simulator.server import main

sys.exit(main())
