"""Loading skills in the open Agent Skills layout: ``skills/<name>/SKILL.md``.

Front matter (YAML): ``name``, ``description`` and ``metadata`` with ``agent`` (the owning
specialist), ``version``, optional ``tags`` (comma separated) and ``customer_label`` (the few
plain words a customer is offered in a clarifying question, never internal terms). The body holds the procedure,
an ``## Examples`` list (customer phrasings, used by routing and the AgentCard) and
``## Test scenarios``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from shared.errors import ConfigurationError
from shared.resources import package_dir

SKILLS_DIR = package_dir("skills")

# The house rules every skill meets (tests/routing/test_skills.py and test_eval_set.py check them,
# ``switchboard new-skill`` writes to them): enough varied examples for the AgentCard and the
# offline brain, and enough labelled routing rows (``evals/routing/source/<skill>.txt``, none a
# copy of an example) to measure the skill on held-out messages. The ceiling leaves room for the
# busiest skills' many wordings without thinning the held-out share a skill is measured on.
MIN_EXAMPLES = 30
MAX_EXAMPLES = 45
MIN_ROUTING_ROWS = 35
MAX_ROUTING_ROWS = 125
MAX_LABEL_WORDS = 9

# Words a customer should never read in a label: how we name things inside.
_INTERNAL_WORDS = re.compile(
    r"\b(skill|agent|specialist|hydrated|handoff|hand-off|escalat\w*|procedure|tool|customer)\b", re.IGNORECASE
)


def label_problem(label: str) -> str | None:
    """Why ``label`` cannot be offered to a customer ("changing your plan" can), or None."""
    if not label.strip():
        return "it is empty"
    if len(label.split()) > MAX_LABEL_WORDS:
        return f"it has more than {MAX_LABEL_WORDS} words"
    if label != label.lower() or label.endswith("."):
        return "it must be lower case without a final full stop"
    internal = _INTERNAL_WORDS.search(label)
    if internal:
        return f"customers do not know the word {internal.group(0)!r}"
    return None


# libyaml's parser when the wheel has it (the same safe constructor and resolver, several times
# faster): every specialist reads every skill's front matter at start-up.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_yaml(text: str) -> Any:
    """``yaml.safe_load`` of ``text``, by libyaml's parser when available."""
    return yaml.load(text, Loader=_YAML_LOADER)  # _YAML_LOADER is a safe loader


_FRONT_MATTER = re.compile(r"^---\n(.*?)\n---\n(.*)$", re.DOTALL)
_NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Skill:
    name: str
    description: str
    agent: str
    version: str
    tags: tuple[str, ...]
    examples: tuple[str, ...]
    body: str
    path: Path = field(compare=False)
    customer_label: str = ""
    """How the skill is offered to a customer in a clarifying question ("changing your plan")."""


def _section(body: str, title: str) -> list[str]:
    match = re.search(rf"^## {re.escape(title)}\s*\n(.*?)(?=^## |\Z)", body, re.DOTALL | re.MULTILINE)
    if not match:
        return []
    return [line[2:].strip() for line in match.group(1).splitlines() if line.startswith("- ")]


def load_skill(path: Path) -> Skill:
    """The skill in ``path`` (a ``SKILL.md``); a file unchanged since it was last read is not parsed again."""
    stat = path.stat()
    return _load_skill(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=1024)
def _load_skill(path: Path, mtime_ns: int, size: int) -> Skill:
    text = path.read_text(encoding="utf-8")
    match = _FRONT_MATTER.match(text)
    if not match:
        raise ConfigurationError(f"{path}: missing YAML front matter", hint="start the file with a --- block")
    try:
        meta = safe_yaml(match.group(1)) or {}
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"{path}: front matter is not valid YAML: {exc}") from exc
    name = meta.get("name", "")
    if not _NAME.match(str(name)) or name != path.parent.name:
        raise ConfigurationError(f"{path}: name {name!r} must be lowercase-hyphenated and equal the folder name")
    extra = meta.get("metadata") or {}
    if not meta.get("description") or not extra.get("agent"):
        raise ConfigurationError(f"{path}: needs description and metadata.agent")
    tags = tuple(t.strip() for t in str(extra.get("tags", "")).split(",") if t.strip())
    body = match.group(2)
    return Skill(
        name=name,
        description=str(meta["description"]).strip(),
        agent=str(extra["agent"]),
        version=str(extra.get("version", "1.0")),
        tags=tags,
        examples=tuple(_section(body, "Examples")),
        body=body,
        path=path,
        customer_label=str(extra.get("customer_label") or "").strip(),
    )


def load_skills(root: Path = SKILLS_DIR, agent: str | None = None) -> list[Skill]:
    """All skills under ``root`` (sorted by name), optionally only one agent's."""
    skills = [load_skill(p) for p in sorted(root.glob("*/SKILL.md"))]
    return [s for s in skills if agent is None or s.agent == agent]
