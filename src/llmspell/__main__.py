"""``python -m llmspell`` is the ``llmspell`` command."""

import sys

from .cli import main

sys.exit(main())
