"""`python -m ntrader_pipeline.cli ...` is the same as `ntrader ...`."""

import sys

from ntrader_pipeline.cli.main import main

sys.exit(main())
