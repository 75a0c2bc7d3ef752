"""YAML as DVC reads and writes it: YAML 1.2 resolution, ruamel's layout.

DVC writes every file with ruamel.yaml's round-trip dumper. PyYAML's emitter
shares its ancestry, so with the YAML 1.2 resolver and ruamel's representation
of nulls the bytes come out the same (checked against ruamel in the tests).
Loading uses libyaml's parser where available, with the same 1.2 resolver, so
`yes`/`on` stay strings as they do in DVC.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from mlvc.exceptions import MlvcError


class YamlError(MlvcError):
    """A YAML file that cannot be parsed; names the file, line and column."""


def _add_yaml12_resolvers(cls: type[yaml.resolver.BaseResolver]) -> None:
    # DVC-compat: ruamel's YAML 1.2 implicit types (no yes/no/on/off booleans,
    # no sexagesimal numbers, 0o octal).
    add = cls.add_implicit_resolver
    add(
        "tag:yaml.org,2002:bool",
        re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
        list("tTfF"),
    )
    add(
        "tag:yaml.org,2002:float",
        re.compile(
            r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
            |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
            |[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?
            |[-+]?\.(?:inf|Inf|INF)
            |\.(?:nan|NaN|NAN))$""",
            re.X,
        ),
        list("-+0123456789."),
    )
    add(
        "tag:yaml.org,2002:int",
        re.compile(
            r"""^(?:[-+]?0b[0-1_]+
            |[-+]?0o?[0-7_]+
            |[-+]?[0-9_]+
            |[-+]?0x[0-9a-fA-F_]+)$""",
            re.X,
        ),
        list("-+0123456789"),
    )
    add("tag:yaml.org,2002:merge", re.compile(r"^(?:<<)$"), ["<"])
    add("tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""])
    add(
        "tag:yaml.org,2002:timestamp",
        re.compile(
            r"""^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
            |[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?
            (?:[Tt]|[ \t]+)[0-9][0-9]?
            :[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?
            (?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$""",
            re.X,
        ),
        list("0123456789"),
    )
    add("tag:yaml.org,2002:value", re.compile(r"^(?:=)$"), ["="])


class Yaml12Resolver(yaml.resolver.BaseResolver):
    """PyYAML resolver with YAML 1.2 implicit types."""


_add_yaml12_resolvers(Yaml12Resolver)

try:
    _CParser: Any = yaml.CParser  # type: ignore[attr-defined]
except AttributeError:  # PyYAML built without libyaml
    _CParser = None


if _CParser is not None:

    class _Loader(_CParser, yaml.constructor.SafeConstructor, Yaml12Resolver):  # type: ignore[misc]
        def __init__(self, stream: str) -> None:
            _CParser.__init__(self, stream)
            yaml.constructor.SafeConstructor.__init__(self)
            Yaml12Resolver.__init__(self)

else:

    class _Loader(  # type: ignore[no-redef]
        yaml.reader.Reader,
        yaml.scanner.Scanner,
        yaml.parser.Parser,
        yaml.composer.Composer,
        yaml.constructor.SafeConstructor,
        Yaml12Resolver,
    ):
        def __init__(self, stream: str) -> None:
            yaml.reader.Reader.__init__(self, stream)
            yaml.scanner.Scanner.__init__(self)
            yaml.parser.Parser.__init__(self)
            yaml.composer.Composer.__init__(self)
            yaml.constructor.SafeConstructor.__init__(self)
            Yaml12Resolver.__init__(self)


class _Dumper(
    yaml.emitter.Emitter,
    yaml.serializer.Serializer,
    yaml.representer.SafeRepresenter,
    Yaml12Resolver,
):
    """The pure-Python emitter: its line folding is the one ruamel inherited."""

    def __init__(self, stream: Any, **kwargs: Any) -> None:
        yaml.emitter.Emitter.__init__(
            self,
            stream,
            canonical=False,
            indent=2,
            width=80,
            allow_unicode=True,
            line_break=None,
        )
        yaml.serializer.Serializer.__init__(self, explicit_start=False, explicit_end=False)
        yaml.representer.SafeRepresenter.__init__(
            self, default_style=None, default_flow_style=False, sort_keys=False
        )
        Yaml12Resolver.__init__(self)

    def represent_none(self, data: Any) -> yaml.ScalarNode:
        # DVC-compat: ruamel writes a null inside a document as nothing (`key:`).
        if not self.represented_objects:
            return self.represent_scalar("tag:yaml.org,2002:null", "null")
        return self.represent_scalar("tag:yaml.org,2002:null", "")

    def represent_float(self, data: float) -> yaml.ScalarNode:
        # DVC-compat: YAML 1.2 floats keep repr's form (`1e-05`, not `1.0e-05`).
        if data != data:
            value = ".nan"
        elif data == float("inf"):
            value = ".inf"
        elif data == float("-inf"):
            value = "-.inf"
        else:
            value = repr(data).lower()
        return self.represent_scalar("tag:yaml.org,2002:float", value)


_Dumper.add_representer(type(None), _Dumper.represent_none)
_Dumper.add_representer(float, _Dumper.represent_float)


def dumps(data: Any) -> str:
    """Serialises `data` exactly as DVC's YAML writer would."""
    out: str = yaml.dump(data, Dumper=_Dumper)
    return out


def loads(text: str, origin: str | Path = "<string>") -> Any:
    """Parses YAML text; errors name `origin` with line and column."""
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{origin}:{mark.line + 1}:{mark.column + 1}" if mark else str(origin)
        raise YamlError(f"`{where}`: {exc.problem or exc.context or 'invalid YAML'}") from exc
    except yaml.YAMLError as exc:
        raise YamlError(f"`{origin}`: {exc}") from exc


def load_file(path: Path) -> Any:
    """Reads and parses a YAML file."""
    return loads(path.read_text(encoding="utf-8"), path)
