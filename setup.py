"""Maps the repository's top-level folders into the one installed namespace, `speckle_lab`.

Everything else about the distribution is in pyproject.toml. The folders stay where DESIGN.md's layout puts them
(`drivers/`, `model/`, ...); installed, they are `speckle_lab.drivers`, `speckle_lab.model`, ... and nothing else.
"""

from setuptools import find_namespace_packages, setup

NAMESPACE = "speckle_lab"
#: The repository's package folders, in DESIGN.md's layer order.
FOLDERS = ("drivers", "sim", "acquisition", "model", "lab", "gui")

package_dir = {NAMESPACE: NAMESPACE}
packages = [NAMESPACE]
for folder in FOLDERS:
    package_dir[f"{NAMESPACE}.{folder}"] = folder
    # namespace packages too: a data folder (acquisition/targets/data) is listed, as setuptools asks for package data
    subpackages = find_namespace_packages(folder, exclude=("*__pycache__*",))
    packages += [f"{NAMESPACE}.{folder}", *(f"{NAMESPACE}.{folder}.{sub}" for sub in subpackages)]

setup(packages=packages, package_dir=package_dir)
