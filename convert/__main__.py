"""`python -m convert`: write the TFLite flavours (see convert/cli.py)."""

from convert.cli import main

raise SystemExit(main())
