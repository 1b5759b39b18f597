"""``make demo`` (``edge-pipeline demo``): a synthetic issuer through every asset, as runs of
the code location.  Modules, in the order the demo uses them: ``paths``, ``staging``,
``runs`` (how a job is run and read back), ``inbound``, ``simulated_edge``, ``phase1``,
``phase2``, ``reports``; ``run`` strings them together."""

from edge_pipeline.demo.run import run_demo

__all__ = ["run_demo"]
