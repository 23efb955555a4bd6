"""Benchmarks: ``.venv/bin/python -m bench [--quick]`` runs them all (see bench/README.md)."""

import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")  # imported via shared.ops
