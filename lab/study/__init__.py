"""The cross-dataset generalization study that `speckle-lab demo` runs end to end on the simulated bench."""
