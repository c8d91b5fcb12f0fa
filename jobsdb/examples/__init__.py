"""Example job callables for `jobsdb worker` (used by the demo and the tests)."""
