"""``python -m edge_pipeline.demo``: the demo with its defaults."""

import sys

from edge_pipeline.demo import run_demo

sys.exit(run_demo())
