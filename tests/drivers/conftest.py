"""Qt draws offscreen for the display-DMD tests: no display is needed. (Not in a tests/conftest.py: that would
put tests/ on sys.path, where tests/drivers would shadow the drivers package.)"""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
