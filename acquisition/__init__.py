"""speckle-lab: acquisition."""
