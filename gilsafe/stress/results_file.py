"""Reading a `gilsafe stress --json` file back (`--compare`, `gilsafe report --stress`).

The file is checked against result.schema.json before anything uses it, so a wrong file is one line
naming the file and what is wrong with it, never a traceback. The check is plain code for the few
JSON Schema keywords that schema uses: gilsafe takes no dependency to read its own output.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from gilsafe.errors import UsageError
from gilsafe.stress.environment import cores_of
from gilsafe.stress.model import Result

SCHEMA_PATH = Path(__file__).with_name("result.schema.json")

# What each JSON Schema type name accepts (bool is an int to Python, not to JSON).
_JSON_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "null": lambda v: v is None,
}


class ResultsFileError(UsageError):
    """A results file that is missing, is not JSON, or is not shaped as the schema says."""


def schema_problem(value: object, schema: dict, where: str = "the document") -> str | None:
    """The first place where `value` breaks `schema`, in words; None when it conforms."""
    types = schema.get("type")
    if types is not None:
        names = [types] if isinstance(types, str) else types
        if not any(_JSON_TYPES[name](value) for name in names):
            return f"{where}: expected {' or '.join(names)}, found {_json_type_name(value)}"
    if "enum" in schema and value not in schema["enum"]:
        return f"{where}: {value!r} is not one of {', '.join(map(str, schema['enum']))}"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            return f"{where}: {value} is below {schema['minimum']}"
        if "maximum" in schema and value > schema["maximum"]:
            return f"{where}: {value} is above {schema['maximum']}"
    if isinstance(value, dict):
        for name in schema.get("required", ()):
            if name not in value:
                return f"{where}: missing {name!r}"
        properties = schema.get("properties", {})
        for name, item in value.items():
            item_schema = properties.get(name, schema.get("additionalProperties"))
            if isinstance(item_schema, dict):
                problem = schema_problem(item, item_schema, f"{where}.{name}" if where != "the document" else name)
                if problem:
                    return problem
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            problem = schema_problem(item, schema["items"], f"{where}[{index}]")
            if problem:
                return problem
    return None


def _json_type_name(value: object) -> str:
    return next(name for name in ("null", "boolean", "integer", "number", "string", "array", "object") if _JSON_TYPES[name](value))


def read_results(path: Path) -> dict:
    """The document in `path`, checked; raises ResultsFileError naming the file and the problem."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ResultsFileError(f"{path}: not a gilsafe stress result file (not UTF-8 text)") from None
    except OSError as error:
        raise ResultsFileError(f"{path}: cannot read: {error.strerror or error}") from None
    try:
        document = json.loads(text)
    except ValueError as error:
        raise ResultsFileError(f"{path}: not a gilsafe stress result file (not JSON: {error})") from None
    schema = json.loads(SCHEMA_PATH.read_text())
    # Reading needs only the rows: a file from an older gilsafe, or written by hand, may lack the rest.
    problem = schema_problem(document, dict(schema, required=["results"]))
    if problem:
        raise ResultsFileError(f"{path}: not a gilsafe stress result file ({problem})")
    return document


@dataclass
class StressDocument:
    """A results file as records: what `--compare`, the report and the Sphinx directives read."""

    results: list[Result]
    environment: dict = field(default_factory=dict)
    compared_environment: dict | None = None
    cut_by_budget: list[str] = field(default_factory=list)
    interrupted: bool = False

    @property
    def usable_cores(self) -> int:
        return cores_of(self.environment)


def read_document(path: Path) -> StressDocument:
    """The file in `path` as a StressDocument; raises ResultsFileError naming the file and the problem."""
    data = read_results(path)
    try:
        results = [Result.from_json(row) for row in data["results"]]
    except (KeyError, ValueError, TypeError) as error:
        raise ResultsFileError(f"{path}: not a gilsafe stress result file (a result row: {error!r})") from None
    return StressDocument(
        results,
        data.get("environment") or {},
        data.get("compared_environment"),
        list(data.get("cut_by_budget") or []),
        bool(data.get("interrupted")),
    )
