"""Run the simulator: ``python -m chat.upstream.simulator --port 0``."""

import sys

from chat.upstream.simulator.server import main

sys.exit(main())
