"""`python -m pipeline run ...` does what `newsbeam run ...` does."""

from pipeline.cli import main

raise SystemExit(main())
