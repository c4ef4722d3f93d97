"""`python -m pvgen.emulator IMAGE`."""

import sys

from pvgen.emulator.cli import main

sys.exit(main())
