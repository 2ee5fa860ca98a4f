"""`python -m pipeline.settings --readme-table | --default-config | --readme [docs/configuration.md]`."""

import sys

from pipeline.settings.generate import main

raise SystemExit(main(sys.argv[1:]))
