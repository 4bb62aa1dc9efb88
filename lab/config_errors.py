"""Bench-file errors an operator can act on: the file, the key path and what was expected, one line each.

pydantic's own messages name union tags in the location ("laser.sim.power_w") and say "Input should be";
these read "laser.power_w: expected a number > 0, got -1".
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError


class CommandLineError(ValueError):
    """An option the command line refuses (out of range, not finite, options that do not go together): one
    line naming the option and what was expected; exit 2 through `lab/cli.py`'s table."""


class BenchConfigError(ValueError):
    """A bench file that cannot be used; `problems` holds one "key.path: what is wrong" line each."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = list(problems)
        super().__init__("\n".join(f"{source}: {problem}" for problem in self.problems))


_NAMES_ITS_KEY = re.compile(r"^[a-z_]+\.[a-z_]+: ")
_EXPECTED = {
    "int_type": "expected an integer",
    "float_type": "expected a number",
    "bool_type": "expected true or false",
    "string_type": "expected a string",
    "finite_number": "expected a finite number",
    "model_type": "expected a table",
    "model_attributes_type": "expected a table",
    "dict_type": "expected a table",
}
_BOUNDS = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}


def describe_errors(
    error: ValidationError,
    root: type[BaseModel],
    choices: Mapping[str, str],
    variants: Callable[[str], Mapping[str, type[BaseModel]]],
) -> list[str]:
    """One line per problem. `choices` maps a union section to its choosing key ("laser" -> "backend");
    `variants(section)` gives that section's settings classes by name."""
    problems = []
    for item in error.errors(include_url=False):
        loc = [str(part) for part in item["loc"]]
        section = loc[0] if loc else ""
        model, variant = _section_model(root, section), ""
        if section in choices and len(loc) >= 2 and loc[1] in variants(section):
            model, variant = variants(section)[loc[1]], f" for {choices[section]} {loc[1]!r}"
            del loc[1]  # pydantic names the union member; the file does not
        key = ".".join(loc) or "(top level)"
        if item["type"] == "union_tag_invalid":
            name = choices[section]
            known = ", ".join(sorted(variants(section)))
            problems.append(
                f"{section}.{name}: unknown {name} {item['ctx']['tag']!r}; known {name}s: {known}{_left_out()}"
            )
        elif item["type"] == "extra_forbidden":
            known_keys = list(root.model_fields) if len(loc) == 1 else list(model.model_fields) if model else []
            problems.append(f"{key}: {_unknown_key(loc[-1], known_keys, top=len(loc) == 1, variant=variant)}")
        elif item["type"] == "missing":
            problems.append(f"{key}: required{variant}, but not given")
        elif item["type"] == "value_error" and not loc and _NAMES_ITS_KEY.match(str(item["ctx"]["error"])):
            problems.append(str(item["ctx"]["error"]))  # a check across sections names its own key
        elif item["type"] == "value_error":
            problems.append(f"{key}: {item['ctx']['error']}")
        else:
            problems.append(f"{key}: {_expected(item)}, got {_show(item['input'])}")
    return problems


def _left_out() -> str:
    """The backend plugins that failed to load, when there are any: the backend asked for may be one of them."""
    from speckle_lab.lab.backend_registry import plugin_failures  # that module imports this one

    failures = plugin_failures()
    return "" if not failures else " (" + "; ".join(str(failure) for failure in failures) + ")"


def _section_model(root: type[BaseModel], section: str) -> type[BaseModel] | None:
    field = root.model_fields.get(section)
    annotation = field.annotation if field else None
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _unknown_key(key: str, known: list[str], top: bool, variant: str) -> str:
    what = "section" if top else "key"
    close = difflib.get_close_matches(key, known, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"unknown {what}{variant}; {hint}known {what}s: {', '.join(known)}"


def _expected(item: Any) -> str:
    kind, ctx = item["type"], item.get("ctx", {})
    if kind in _BOUNDS:
        limit = next(iter(ctx.values()))
        return f"expected a number {_BOUNDS[kind]} {limit}"
    if kind == "literal_error":
        return f"expected {ctx['expected']}"
    return _EXPECTED.get(kind, item["msg"].replace("Input should be", "expected"))


def _show(value: object) -> str:
    """The offending value as it looks in TOML."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return repr(value)
