"""speckle-lab: gui."""
