"""`python -m bench.faults [--full] [--seed N] [--out FILE]`."""

import sys

from bench.faults.runner import main

sys.exit(main())
