"""``tools``: built-in tools (through the sandbox) and the spell's own tools.

A tool is a name, a description, a JSON Schema of its parameters and a
function.  Built-in ones live in :mod:`llmspell.tools`; a spell adds its own
with ``tools.register`` (its handler is a script function, run back in the
spell's VM).  Either kind is called as ``tools.NAME(...)`` with one table of
parameters or positional arguments in the schema's order.
"""

from __future__ import annotations

import time
from typing import Annotated, Any, ClassVar

from ..errors import SpellError, host_error
from ..host import is_run_limit
from ..tools.registry import TOOL_SPECS, ToolContext
from ..values import HostHandle, ScriptFunction
from .base import Bridge, Options, method

_JSON_TYPES = {"string", "number", "integer", "boolean", "object", "array", "null"}


class ToolDefinition(Options):
    name: Annotated[str, "the tool's name (letters, digits, _ and -)"]
    description: Annotated[str, "what the tool does, for a model deciding to call it"] = ""
    parameters: Annotated[dict[str, Any] | None, "{name = {type, required, description}} or a JSON Schema"] = None
    handler: Annotated[ScriptFunction, "called with the parameters table; its return value is the result"]


class ToolInfo(Options):
    name: str
    description: str
    parameters: dict[str, Any]


def to_json_schema(parameters: dict[str, Any] | None, where: str) -> dict:
    """The short ``{name = {type=..., required=true}}`` form, or a full JSON
    Schema object, as a JSON Schema object (checked to be a valid schema)."""
    if not parameters:
        return {"type": "object", "properties": {}, "additionalProperties": False}
    if parameters.get("type") == "object" or "properties" in parameters:
        schema = dict(parameters)
        schema.setdefault("type", "object")
    else:
        props: dict[str, Any] = {}
        required = []
        for name, spec in parameters.items():
            if not isinstance(spec, dict):
                raise SpellError("invalid_argument", f"{where}: parameters.{name} must be a table like "
                                 "{type = \"string\", required = true}")
            spec = dict(spec)
            if spec.pop("required", False):
                required.append(name)
            if "type" in spec and spec["type"] not in _JSON_TYPES:
                raise SpellError("invalid_argument", f"{where}: parameters.{name}.type must be one of "
                                 + ", ".join(sorted(_JSON_TYPES)))
            props[name] = spec
        schema = {"type": "object", "properties": props, "required": required}
    import jsonschema

    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise SpellError("invalid_argument", f"{where}: parameters is not a valid JSON Schema: {exc.message}") \
            from None
    return schema


class ScriptTool:
    """A tool whose handler is a function of the spell."""

    def __init__(self, name: str, description: str, parameters: dict, handler: ScriptFunction) -> None:
        self.name, self.description, self.parameters, self.handler = name, description, parameters, handler

    def describe(self) -> dict:
        return {"name": self.name, "description": self.description, "parameters": self.parameters}

    async def invoke(self, params: dict) -> Any:
        import jsonschema  # lazily: only tool calls pay for it

        errors = sorted(jsonschema.Draft202012Validator(self.parameters).iter_errors(params),
                        key=lambda e: list(e.path))
        if errors:
            first = errors[0]
            where = ".".join(str(p) for p in first.path)
            raise SpellError("invalid_argument", f"{self.name}: {where + ': ' if where else ''}{first.message}")
        try:
            return await self.handler(params)
        except SpellError as exc:
            if is_run_limit(exc) or exc.kind == "cancelled":
                raise
            raise SpellError("tool_error", f"{self.name}: {exc.message}") from None


class ToolHandle(Bridge):
    """A tool object, as ``tools.register`` returns it (agents take these)."""

    name = "tool"

    def __init__(self, host: Any, tools: ToolsBridge, tool_name: str) -> None:
        super().__init__(host)
        self.tools, self.tool_name = tools, tool_name

    def script_attributes(self) -> dict[str, Any]:
        return {"name": self.tool_name, "description": self.tools.describe(self.tool_name)["description"]}

    @method
    async def call(self, params: Annotated[dict[str, Any] | None, "the tool's parameters"] = None) -> Any:
        """Call this tool."""
        return await self.tools.run(self.tool_name, params or {})


class ToolsBridge(Bridge):
    name = "tools"
    description = "Built-in tools (file_read, http_get, calculator, ...) and the spell's own."
    #: ``tools.NAME(...)`` for any NAME not a method is ``tools.call("NAME", ...)``.
    dynamic_method: ClassVar[str | None] = "call"

    def __init__(self, host: Any) -> None:
        super().__init__(host)
        self.registered: dict[str, ScriptTool] = {}
        self.context = ToolContext(policy=host.policy, base=host.base_dir,
                                   search_endpoint=host.settings.search_endpoint,
                                   count_write=getattr(host, "count_write", None))

    def static_members(self) -> list[str]:
        """Names that ``tools.NAME`` reaches, for languages without a fallback lookup."""
        return sorted(TOOL_SPECS)

    def describe(self, name: str) -> dict:
        if name in self.registered:
            return self.registered[name].describe()
        spec = TOOL_SPECS.get(name)
        if spec is None:
            known = ", ".join(sorted({*TOOL_SPECS, *self.registered}))
            raise SpellError("not_found", f"there is no tool named {name!r} (tools: {known})")
        return spec.describe()

    def positional(self, name: str, args: list[Any]) -> dict[str, Any]:
        """One table of parameters, or positional arguments in the schema's order."""
        props = list((self.describe(name)["parameters"] or {}).get("properties", {}))
        if len(args) == 1 and isinstance(args[0], dict) and (set(args[0]) <= set(props) or not props):
            return args[0]
        if len(args) > len(props):
            raise SpellError("invalid_argument", f"tools.{name}: takes at most {len(props)} argument(s) "
                             f"({', '.join(props) or 'none'}), got {len(args)}")
        return dict(zip(props, args, strict=False))

    async def run(self, name: str, params: dict[str, Any]) -> Any:
        self.describe(name)  # not_found first
        self.host.policy.check_builtin(f"tools.{name}")
        started = time.monotonic()
        try:
            if name in self.registered:
                return await self.registered[name].invoke(params)
            return await TOOL_SPECS[name].invoke(params, self.context)
        finally:
            self.last_duration = time.monotonic() - started

    @method
    async def call(self, name: Annotated[str, "the tool's name"], *args: Annotated[Any, "parameters"]) -> Any:
        """Call a tool: one table of parameters, or positional arguments in its schema's order."""
        try:
            return await self.run(name, self.positional(name, list(args)))
        except SpellError:
            raise
        except Exception as exc:  # named after the tool the spell called, not after tools.call
            raise host_error(exc, f"tools.{name}") from None

    @method
    def register(self, spec: Annotated[ToolDefinition, "the tool"]) -> HostHandle:
        """Add a tool whose handler is a function of this spell; returns the tool object."""
        if spec.name in TOOL_SPECS or spec.name in ToolsBridge.specs:
            raise SpellError("invalid_argument", f"tools.register: {spec.name!r} is already a built-in name")
        schema = to_json_schema(spec.parameters, "tools.register")
        self.registered[spec.name] = ScriptTool(spec.name, spec.description, schema, spec.handler)
        return ToolHandle(self.host, self, spec.name).handle()

    @method
    def list(self) -> list[ToolInfo]:
        """Every tool this spell can call: {name, description, parameters}."""
        names = sorted({*TOOL_SPECS, *self.registered})
        return [self.describe(n) for n in names]
