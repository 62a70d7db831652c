"""`python -m train`: train the U-Net (see train/cli.py)."""

import sys

from train.cli import main

sys.exit(main())
