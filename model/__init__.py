"""speckle-lab: model."""
