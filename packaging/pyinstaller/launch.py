"""Entry point for frozen builds: the same CLI, which opens the app when given no command."""

import sys

from photosearch.cli import main

sys.exit(main())
