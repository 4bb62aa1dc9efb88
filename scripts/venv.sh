#!/usr/bin/env bash
# Create (or refresh) the project's virtual environment in .venv with the tested, pinned torch.
# Sourced by scripts/demo and scripts/test; safe to run again: it reinstalls only when pyproject.toml
# setup.py or constraints.txt changed since the last install.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
stamp="$venv/.installed"
python="${PYTHON:-python3}"
if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
want="$(cat "$root/pyproject.toml" "$root/setup.py" "$root/constraints.txt" | sha256sum | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    "$venv/bin/python" -m pip install --quiet --upgrade pip
    "$venv/bin/python" -m pip install --quiet -c "$root/constraints.txt" -e "$root[dev]"
    echo "$want" > "$stamp"
fi
