"""Settings every test shares: Qt draws offscreen (no display is needed for the GUI and display-DMD tests)."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
