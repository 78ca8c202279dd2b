"""The one Jinja2 environment: the workbench pages and `ecorules publish --format html` render from the same
templates (package data in ecorules/templates/), so the page and the published file cannot disagree."""
from __future__ import annotations

import functools

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape


@functools.lru_cache(maxsize=1)
def environment() -> Environment:
    """Autoescaping on (every value from a rule file or a matter is text, never markup); undefined names fail."""
    env = Environment(loader=PackageLoader("ecorules", "templates"), autoescape=select_autoescape(default=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    return env


def render(template: str, **context) -> str:
    return environment().get_template(template).render(**context)


__all__ = ["environment", "render"]
