"""``python -m gui`` opens the window, like the ``numpynet-studio`` command."""
from .app import main

raise SystemExit(main())
