"""speckle-lab: lab."""
