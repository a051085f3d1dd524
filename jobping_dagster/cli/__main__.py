"""`python -m jobping_dagster.cli`, the same as the `jobping` console script."""

import sys

from jobping_dagster.cli import main

sys.exit(main())
