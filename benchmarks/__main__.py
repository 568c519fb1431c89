"""`python -m benchmarks`: every benchmark, written to docs/benchmarks.md (see benchmarks/run.py)."""

from benchmarks.run import main

raise SystemExit(main())
