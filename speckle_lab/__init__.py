"""speckle-lab: run an optical bench for deep-learning imaging through scattering media.

The one installed namespace. Its subpackages live at the top of the repository (DESIGN.md's layout:
`drivers/`, `sim/`, `acquisition/`, `model/`, `lab/`, `gui/`) and install as `speckle_lab.drivers`,
`speckle_lab.sim`, ...; `setup.py` maps the folders here, so no generic top-level module (`model`, `lab`)
lands in a user's environment.
"""
