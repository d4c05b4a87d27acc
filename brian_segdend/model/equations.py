"""Load and validate the editable equation files in ``equations/segdend/``.

Each compartment of the model is one file in Brian2's equation syntax (one equation per
line, ``# comments`` allowed).  Lines starting with ``#:`` are directives:

``#: method = exact``           integration method of the group the file belongs to
``#: threshold = rand() < phi*dt``  spike condition
``#: on_spike = ...``           statements run on the neuron's own spike (reset slot)
``#: on_pre = ...``             statements run on each incoming synaptic event
``#: on_spike_cutoff = ...``    (optional) statements run ``kernel_cutoff`` after the neuron's own
                                spike: remove what is left of that spike's kernel (``kernel = 'truncated'``)
``#: on_pre_cutoff = ...``      (optional) the same for each synaptic event (like ``on_pre``)
``#: on_plateau = ...``         (``hidden_burst.eqs`` only) statements run at each plateau of the
                                burst-coded variant (``plateau``, ``phase_sign`` supplied)
``#: param NAME = value``       the value (number with Brian2 units) of a user parameter declared
                                in the file as ``NAME : unit (shared, constant)``: a run argument,
                                set per run with ``--set NAME=value`` (:func:`resolve_user_params`)

The cutoff directives may use ``kernel_cutoff`` (a time, supplied by the network); the network
needs them only when it is built with the truncated kernel.

Everything is checked here, in Python, before Brian2 generates or compiles any code:
encoding, syntax, undefined names (Brian2 units such as ``ms`` are allowed), units, the
names the network relies on, that thresholds are conditions, that ``on_spike``/``on_pre``
statements assign only to the file's own state variables (``x`` or ``x_post``) with
matching units, that no file defines a name the network adds to its group, and that files
combined into one group (:data:`brian_segdend.model.contract.GROUPS`) do not define the same name.  Every error is an
:class:`EquationFileError` whose message starts with ``path:line:`` (line 1, or the line of
a near-miss name, for something missing from the file).

The raw text is kept (``CompartmentFile.text``) because ``str(Equations)`` does not parse
back into Brian2.
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass, field, fields
from pathlib import Path

from brian2 import Equations, ms, second
from brian2.core.functions import DEFAULT_CONSTANTS, DEFAULT_FUNCTIONS
from brian2.core.namespace import DEFAULT_UNITS
from brian2.core.variables import Constant
from brian2.equations.equations import DIFFERENTIAL_EQUATION, PARAMETER
from brian2.parsing.expressions import is_boolean_expression, parse_expression_dimensions
from brian2.units.fundamentalunits import DIMENSIONLESS, DimensionMismatchError, get_dimensions
from brian2.utils.stringtools import get_identifiers

from .contract import COMPARTMENTS, GROUPS, OPTIONAL_COMPARTMENTS, added_names, compartment_spec
from .params import ModelParams, ParameterError
from .quantities import QuantityParseError, format_quantity, parse_quantity

__all__ = ["EquationFileError", "CompartmentFile", "UserParam", "user_params", "resolve_user_params",
           "Section", "EquationFileText", "read_equation_file", "COMPARTMENTS", "load_compartment",
           "check_interface",
           "load_all", "default_equation_dir", "equation_root"]

DIRECTIVES = ("method", "threshold", "on_spike", "on_pre", "on_spike_cutoff", "on_pre_cutoff", "on_plateau")
#: directives with the statements of a synaptic event (``_post`` names allowed)
_PRE_DIRECTIVES = ("on_pre", "on_pre_cutoff")
METHODS = ("exact", "exponential_euler", "euler", "rk2", "rk4", "heun", "linear")

# names every piece of Brian2 code may use
_BUILTIN_NAMES = {"t", "dt", "i", "N", "xi", "True", "False", "true", "false"}

class EquationFileError(ValueError):
    """An equation file is unreadable, malformed, dimensionally wrong or incomplete."""


def equation_root() -> Path:
    """``$BRIAN_SEGDEND_EQUATIONS`` or the ``equations/`` folder of the project.

    One sub-folder per model (``segdend/``, ``plasticity/``, ``diehl_cook/``).
    """
    env = os.environ.get("BRIAN_SEGDEND_EQUATIONS")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "equations"


def default_equation_dir() -> Path:
    """The segregated-dendrite model's files: ``<equation_root()>/segdend``."""
    return equation_root() / "segdend"


@dataclass
class CompartmentFile:
    """One validated equation file."""

    name: str
    path: Path
    text: str                  # the raw file text, for export and display
    eq_text: str               # the equation lines only (comments kept), for Brian2
    equations: Equations
    directives: dict
    lines: dict = field(default_factory=dict)   # defined name -> line number
    user_params: dict = field(default_factory=dict)   # name -> UserParam (declared in this file)
    inputs: dict = field(default_factory=dict)  # declared ``#: input NAME : unit``: name -> unit
    outputs: dict = field(default_factory=dict)  # declared ``#: output NAME : unit``: name -> unit

    @property
    def build_text(self) -> str:
        """The text that identifies the compiled code.

        :attr:`text` without the values of its ``#: param`` lines (a user parameter is a run
        argument: another value needs no rebuild).
        """
        return "\n".join(_PARAM_VALUE.sub(r"\1", line) for line in self.text.splitlines())

    def error(self, name_or_line, message) -> EquationFileError:
        """An EquationFileError at the line of ``name_or_line`` (a defined name or a line number)."""
        line = name_or_line if isinstance(name_or_line, int) else self.lines.get(name_or_line, 0)
        return EquationFileError(f"{self.path}:{line}: {message}")


@dataclass(frozen=True)
class UserParam:
    """A parameter declared in an equation file (a user parameter).

    Declared as ``NAME : unit (shared, constant)`` plus ``#: param NAME = value`` (its default).
    Set per run with ``--set NAME=value`` or a ``[model]`` key; passed to the compiled network as
    a run argument.

    Attributes
    ----------
    name : str
    default : Quantity or float
        The value of the ``#: param`` line.
    dim : Dimension
        The declared unit's dimensions.
    path : Path
    line : int
        Line of the declaration.
    value_line : int
        Line of the ``#: param`` value.
    comment : str
        The ``#: param`` line's comment (its meaning).
    """

    name: str
    default: object
    dim: object
    path: Path
    line: int
    value_line: int
    comment: str = ""

    @property
    def where(self) -> str:
        """``path:line`` of the declaration."""
        return f"{self.path}:{self.line}"


def _unit_name(unit) -> str:
    dim = get_dimensions(unit)
    return "1 (dimensionless)" if dim is DIMENSIONLESS else repr(unit)


def _namespace_constants(namespace: dict) -> dict:
    out = {}
    for key, value in namespace.items():
        if callable(value) and not hasattr(value, "dim"):
            continue
        out[key] = _const(key, value)
    return out


def _const(name, value):
    """A Brian2 Constant carrying the dimensions of ``value``."""
    return Constant(name, value, dimensions=get_dimensions(value))


@dataclass
class Section:
    """One section of an equation file (``#: [name]``; a file without headers is one section ``""``)."""

    name: str
    line: int                                        # line of the header (1 for the implicit section)
    eq_lines: list = field(default_factory=list)     # the file's lines, directive lines blanked
    equations: list = field(default_factory=list)    # (line, SingleEquation) in file order
    lines: dict = field(default_factory=dict)        # defined name -> line
    directives: dict = field(default_factory=dict)   # key -> (value, line)
    events: dict = field(default_factory=dict)       # ``#: event NAME = condition``: name -> (condition, line)
    on_event: dict = field(default_factory=dict)     # ``#: on_event NAME = statements``: name -> (statements, line)

    @property
    def eq_text(self) -> str:
        """The equation lines for Brian2 (comments kept, line numbers preserved)."""
        return "\n".join(self.eq_lines)


@dataclass
class EquationFileText:
    """An equation file read in the project's one dialect (:func:`read_equation_file`)."""

    path: Path
    text: str
    params: dict       # ``#: param NAME = value  # comment``: name -> (Quantity or number, line, expression, comment)
    sections: dict     # name -> Section, in file order
    inputs: dict = field(default_factory=dict)    # ``#: input NAME : unit``: name -> (unit, line)
    outputs: dict = field(default_factory=dict)   # ``#: output NAME : unit``: name -> (unit, line)


_PARAM = re.compile(r"^#:\s*param\s+([A-Za-z_]\w*)\s*=\s*([^#]+?)\s*(?:#\s*(.*))?$")
_PARAM_VALUE = re.compile(r"^(\s*#:\s*param\s+[A-Za-z_]\w*\s*=).*$")
_SECTION = re.compile(r"^#:\s*\[(\w+)\]\s*$")
_EVENT = re.compile(r"^#:\s*(event|on_event)\s+(\w+)\s*=\s*(.+)$")
_INTERFACE = re.compile(r"^#:\s*(input|output)\s+([A-Za-z_]\w*)\s*:\s*([^#]+?)\s*(?:#.*)?$")


def read_equation_file(path, directives, missing: str = "", sections: bool = False,
                       params: bool = False, interface: bool = False) -> EquationFileText:
    """Read an equation file of any model in the project's dialect; every error names ``path:line:``.

    The dialect: Brian2 equations, one per line, ``# comments``; lines starting with ``#:`` are

    * ``#: key = value`` -- a directive of the current section (``key`` in ``directives``);
    * ``#: [name]`` -- a section header (only with ``sections``);
    * ``#: param NAME = value  # meaning`` -- a parameter with its unit, evaluated with Brian2's
      units only (only with ``params``);
    * ``#: event NAME = condition`` / ``#: on_event NAME = statements`` -- a custom event and its
      statements (only with ``sections``);
    * ``#: input NAME : unit`` / ``#: output NAME : unit`` -- a name the network feeds into the
      file / reads from it, with its unit (only with ``interface``; checked against the model's
      contract by :func:`load_compartment`).

    Each equation line is parsed on its own (the error names its line); a name defined twice in
    a section is an error. ``missing`` is added to the message of a missing file.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise EquationFileError(f"{path}:0: equation file is missing{missing}") from None
    except OSError as e:
        raise EquationFileError(f"{path}:0: cannot read the equation file: {e}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[:e.start].count(b"\n") + 1
        raise EquationFileError(f"{path}:{line}: not valid UTF-8 (byte 0x{raw[e.start]:02x} at offset {e.start})") from None
    out = EquationFileText(path=path, text=text, params={}, sections={})
    current = out.sections[""] = Section("", 1)
    for lineno, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("#:"):
            current.eq_lines.append("")
            m = _SECTION.match(stripped)
            if sections and m:
                current = out.sections[m.group(1)] = Section(m.group(1), lineno)
                continue
            m = _PARAM.match(stripped)
            if params and m:
                name, expr, comment = m.group(1), m.group(2), m.group(3) or ""
                try:
                    value = parse_quantity(expr)     # numbers and Brian2 units only, never eval
                except QuantityParseError as e:
                    raise EquationFileError(f"{path}:{lineno}: parameter '{name}': {e}") from None
                if name in out.params:
                    raise EquationFileError(f"{path}:{lineno}: parameter '{name}' is given twice "
                                            f"(first on line {out.params[name][1]})")
                out.params[name] = (value, lineno, expr.strip(), comment.strip())
                continue
            m = _INTERFACE.match(stripped)
            if interface and m:
                kind, name, unit_text = m.groups()
                table = out.inputs if kind == "input" else out.outputs
                if name in out.inputs or name in out.outputs:
                    first = (out.inputs.get(name) or out.outputs.get(name))[1]
                    raise EquationFileError(f"{path}:{lineno}: '{name}' is declared twice (first on line {first})")
                try:
                    unit = eval(unit_text, {"__builtins__": {}}, dict(DEFAULT_UNITS))   # units only, never code
                    get_dimensions(unit)
                except Exception as e:
                    raise EquationFileError(f"{path}:{lineno}: {kind} '{name}': cannot read the unit {unit_text!r} ({e})") from None
                table[name] = (unit, lineno)
                continue
            m = _EVENT.match(stripped)
            if sections and m:
                table = current.events if m.group(1) == "event" else current.on_event
                table[m.group(2)] = (m.group(3).strip(), lineno)
                continue
            body = stripped[2:].strip()
            if "=" not in body:
                raise EquationFileError(f"{path}:{lineno}: directive must be '#: key = value', got {stripped!r}")
            key, value = (p.strip() for p in body.split("=", 1))
            if key not in directives:
                raise EquationFileError(f"{path}:{lineno}: unknown directive {key!r}; known: {', '.join(directives)}")
            if key in current.directives:
                raise EquationFileError(f"{path}:{lineno}: directive {key!r} given twice")
            if not value:
                raise EquationFileError(f"{path}:{lineno}: directive {key!r} is empty")
            current.directives[key] = (value, lineno)
            continue
        current.eq_lines.append(line)
        code = line.split("#", 1)[0].strip()
        if not code:
            continue
        try:
            eqs = Equations(code)
        except Exception as e:   # Brian2 raises several types for malformed equations
            msg = str(e).strip().splitlines()
            raise EquationFileError(f"{path}:{lineno}: cannot parse {code!r}: {msg[-1] if msg else type(e).__name__}") from None
        for eq in eqs.values():
            if eq.varname in current.lines:
                raise EquationFileError(f"{path}:{lineno}: '{eq.varname}' is defined twice "
                                        f"(first on line {current.lines[eq.varname]})")
            current.lines[eq.varname] = lineno
            current.equations.append((lineno, eq))
    return out


def load_compartment(name: str, namespace: dict, directory: Path | None = None) -> CompartmentFile:
    """Read, parse and validate ``<directory>/<name>.eqs``.

    Parameters
    ----------
    name : str
        A key of :data:`COMPARTMENTS` or of ``contract.VARIANT_COMPARTMENTS``.
    namespace : dict
        The model parameters visible to the equations (name -> Quantity or number).
    directory : Path, optional
        Folder with the files (default :func:`default_equation_dir`).
    """
    spec = compartment_spec(name)
    directory = Path(directory) if directory is not None else default_equation_dir()
    path = directory / f"{name}.eqs"
    read = read_equation_file(path, DIRECTIVES, missing=f" (the model needs '{name}.eqs')", params=True,
                              interface=True)
    check_interface(read, name)
    text, section = read.text, read.sections[""]
    directives, eq_lines, lines, parsed = section.directives, section.eq_lines, section.lines, section.equations
    if not parsed:
        raise EquationFileError(f"{path}:1: the file defines no equations"
                                f" (the network needs {', '.join(spec.provides)})")

    equations = Equations("\n".join(eq_lines))
    cfile = CompartmentFile(name=name, path=path, text=text, eq_text="\n".join(eq_lines),
                            equations=equations, directives={k: v[0] for k, v in directives.items()},
                            lines=lines, user_params=_user_params(path, parsed, read.params),
                            inputs={k: v[0] for k, v in read.inputs.items()},
                            outputs={k: v[0] for k, v in read.outputs.items()})

    # --- names the network relies on
    # (file-level problems are reported at line 1, or at the line of a near-miss name)
    for var, unit in spec.provides.items():
        if var not in lines:
            close = difflib.get_close_matches(var, [v for v in lines if v not in spec.provides], n=1, cutoff=0.6)
            hint = f"; line {lines[close[0]]} defines '{close[0]}' -- misspelt?" if close else ""
            raise EquationFileError(f"{path}:{lines[close[0]] if close else 1}: the network needs '{var}' "
                                    f"(unit {_unit_name(unit)}) defined in this file, but it is missing{hint}")
    for key in spec.directives:
        if key not in directives:
            raise EquationFileError(f"{path}:1: the network needs the directive '#: {key} = ...' in this file")
    if spec.method_required and "method" not in directives:
        raise EquationFileError(f"{path}:1: the network needs '#: method = ...' (one of {', '.join(METHODS)})")
    if "method" in directives and directives["method"][0] not in METHODS:
        raise EquationFileError(f"{path}:{directives['method'][1]}: unknown method {directives['method'][0]!r}; "
                                f"use one of {', '.join(METHODS)}")
    for var in set(lines) & set(spec.uses):
        raise EquationFileError(f"{path}:{lines[var]}: '{var}' is supplied by the network and must not be defined here")
    for var in sorted(set(lines) & set(namespace), key=lines.get):
        raise EquationFileError(f"{path}:{lines[var]}: '{var}' is a model parameter and cannot be redefined as a variable")
    for var in sorted((set(lines) & added_names()) - set(spec.provides), key=lines.get):
        raise EquationFileError(f"{path}:{lines[var]}: '{var}' is a variable the network adds to this group; "
                                f"choose another name")
    for var in sorted(set(lines) & (set(DEFAULT_UNITS) | set(DEFAULT_FUNCTIONS) | set(DEFAULT_CONSTANTS)
                                    | _BUILTIN_NAMES), key=lines.get):
        raise EquationFileError(f"{path}:{lines[var]}: '{var}' is a Brian2 unit, function or built-in name; "
                                f"choose another name")

    # --- undefined names and units
    variables = dict(DEFAULT_UNITS)          # units may appear in expressions (0.5/ms)
    variables.update(_namespace_constants(namespace))
    variables.update(DEFAULT_FUNCTIONS)
    for cname, c in DEFAULT_CONSTANTS.items():
        variables[cname] = c
    variables["t"] = _const("t", 0 * ms)
    variables["dt"] = _const("dt", 1 * ms)
    variables["i"] = _const("i", 0)
    variables["N"] = _const("N", 1)
    for var, unit in spec.uses.items():
        variables[var] = _const(var, 1.0 * unit)
    for _lineno, eq in parsed:
        variables[eq.varname] = Constant(eq.varname, 1.0, dimensions=eq.dim)
    # state variables a statement may assign to: the file's own (x, or x_post in on_pre)
    state_vars = {eq.varname for _, eq in parsed if eq.type in (DIFFERENTIAL_EQUATION, PARAMETER)}
    post_vars = {}
    for _lineno, eq in parsed:
        post_vars[eq.varname + "_post"] = variables[eq.varname]

    for lineno, eq in parsed:
        if eq.type == PARAMETER:
            continue
        expr = str(eq.expr.code)
        noise = sorted(n for n in get_identifiers(expr) if _is_noise(n))
        if noise:
            _check_noise(path, lineno, eq, noise, directives)
        for ident in get_identifiers(expr):
            if ident not in variables and ident not in _BUILTIN_NAMES and not _is_noise(ident):
                raise EquationFileError(f"{path}:{lineno}: undefined name '{ident}' in the equation for '{eq.varname}'")
        scope = dict(variables, **{n: _const(n, 1.0 * second ** -0.5) for n in noise})
        try:
            dim = parse_expression_dimensions(expr, scope)
        except DimensionMismatchError as e:
            raise EquationFileError(f"{path}:{lineno}: inconsistent units in the equation for '{eq.varname}': {e}") from None
        except SyntaxError as e:
            raise EquationFileError(f"{path}:{lineno}: {e.msg if hasattr(e, 'msg') else e}") from None
        expected = eq.dim / get_dimensions(ms) if eq.type == DIFFERENTIAL_EQUATION else eq.dim
        if get_dimensions(dim) != expected:
            what = f"d{eq.varname}/dt" if eq.type == DIFFERENTIAL_EQUATION else eq.varname
            raise EquationFileError(
                f"{path}:{lineno}: units of '{what}' do not match: the right-hand side has units "
                f"{_dim_str(dim)} but {_dim_str(expected)} is needed")
    for var, unit in spec.provides.items():
        eq = equations[var]
        if eq.dim != get_dimensions(unit):
            raise EquationFileError(f"{path}:{lines[var]}: '{var}' must have unit {_unit_name(unit)}, "
                                    f"the file declares {_dim_str(eq.dim)}")

    # --- directives: names and (for expressions) units
    for key, (value, lineno) in directives.items():
        if key == "method":
            continue
        scope = dict(variables, **post_vars) if key in _PRE_DIRECTIVES else variables
        if key.endswith("_cutoff"):
            scope = dict(scope, kernel_cutoff=_const("kernel_cutoff", 10 * ms))
        for ident in get_identifiers(value):
            if ident not in scope and ident not in _BUILTIN_NAMES:
                hint = ""
                if ident.endswith("_pre"):
                    hint = " (presynaptic variables are not available to the files)"
                elif ident.endswith("_post"):
                    hint = (" (a '_post' name must be a variable of this file)" if key in _PRE_DIRECTIVES
                            else " ('_post' names exist only in on_pre)")
                raise EquationFileError(f"{path}:{lineno}: undefined name '{ident}' in directive '{key}'{hint}")
        if key == "threshold":
            try:
                parse_expression_dimensions(value, variables)
                boolean = is_boolean_expression(value, variables)
            except DimensionMismatchError as e:
                raise EquationFileError(f"{path}:{lineno}: inconsistent units in threshold: {e}") from None
            except (SyntaxError, TypeError, ValueError) as e:
                raise EquationFileError(f"{path}:{lineno}: cannot parse threshold {value!r}: {e}") from None
            if not boolean:
                raise EquationFileError(f"{path}:{lineno}: threshold {value!r} is not a condition "
                                        f"(use a comparison, e.g. 'rand() < phi*dt')")
        else:
            for stmt in re.split(r"[;\n]", value):
                stmt = stmt.strip()
                if not stmt:
                    continue
                m = re.match(r"^([A-Za-z_]\w*)\s*([+\-*/]?=)\s*(.+)$", stmt)
                if not m:
                    raise EquationFileError(f"{path}:{lineno}: cannot parse statement {stmt!r} in directive '{key}'")
                target, op, expr = m.groups()
                base = target[:-len("_post")] if key in _PRE_DIRECTIVES and target.endswith("_post") else target
                if target not in scope:
                    raise EquationFileError(f"{path}:{lineno}: statement assigns to undefined name '{target}'")
                if base not in state_vars:
                    raise EquationFileError(
                        f"{path}:{lineno}: {stmt!r} assigns to '{target}', which is not a state variable "
                        f"(differential equation or parameter) of this file")
                try:
                    dim = parse_expression_dimensions(expr, scope)
                except DimensionMismatchError as e:
                    raise EquationFileError(f"{path}:{lineno}: inconsistent units in {stmt!r}: {e}") from None
                except (SyntaxError, TypeError, ValueError, KeyError) as e:
                    raise EquationFileError(f"{path}:{lineno}: cannot parse {stmt!r}: {e}") from None
                tdim = get_dimensions(scope[target].dim)
                if op in ("=", "+=", "-=") and get_dimensions(dim) != tdim:
                    raise EquationFileError(f"{path}:{lineno}: units do not match in {stmt!r}: "
                                            f"{_dim_str(dim)} assigned to '{target}' ({_dim_str(tdim)})")
    return cfile


def _user_params(path, parsed, values) -> dict:
    """The file's user parameters: every ``(shared, constant)`` parameter with its ``#: param`` value."""
    reserved = {f.name for f in fields(ModelParams)}
    out = {}
    for lineno, eq in parsed:
        if eq.type != PARAMETER or not {"shared", "constant"} <= set(eq.flags):
            continue
        name = eq.varname
        if name in reserved:
            raise EquationFileError(f"{path}:{lineno}: '{name}' is a field of ModelParams (a model parameter "
                                    f"the network sets); choose another name for your parameter")
        if name not in values:
            raise EquationFileError(
                f"{path}:{lineno}: parameter '{name}' is declared but has no value: add a line "
                f"'#: param {name} = <value with units>' to this file (change it per run with "
                f"--set {name}=... or a [model] key '{name}')")
        value, vline, expr, comment = values[name]
        if get_dimensions(value) != eq.dim:
            raise EquationFileError(f"{path}:{vline}: parameter '{name}': the value {expr!r} has units "
                                    f"{_dim_str(get_dimensions(value))}, its declaration on line {lineno} "
                                    f"{_dim_str(eq.dim)}")
        out[name] = UserParam(name, value, eq.dim, Path(path), lineno, vline, comment)
    for name, (_value, vline, _expr, _comment) in values.items():
        if name not in out:
            what = ("is not declared '(shared, constant)'" if name in {eq.varname for _, eq in parsed}
                    else "is not declared in this file")
            raise EquationFileError(f"{path}:{vline}: '#: param {name}': '{name}' {what}; declare it as "
                                    f"'{name} : <unit> (shared, constant)' (one value for all neurons, "
                                    f"set per run)")
    return out


def check_interface(read: EquationFileText, name: str) -> None:
    """Check a file's ``#: input`` / ``#: output`` declarations against the contract.

    The declared inputs must be exactly ``COMPARTMENTS[name].uses`` and the declared outputs
    exactly ``COMPARTMENTS[name].provides`` (:mod:`brian_segdend.model.contract`), each with the
    contract's unit. A wrong declaration names its own line; a missing one names the line of
    the file's first declaration of that kind (line 1 if there is none).
    """
    spec = compartment_spec(name)
    table = "COMPARTMENTS" if name in COMPARTMENTS else "VARIANT_COMPARTMENTS"
    where = f"{table}[{name!r}] in brian_segdend/model/contract.py"
    kinds = (("input", read.inputs, spec.uses), ("output", read.outputs, spec.provides))
    for kind, declared, expected in kinds:
        for var, (unit, lineno) in declared.items():
            if var not in expected:
                listed = ", ".join(f"{k} : {_decl_unit(u)}" for k, u in expected.items()) or "none"
                raise EquationFileError(f"{read.path}:{lineno}: '{var}' is declared as an {kind} but is not one in the "
                                        f"contract ({where}: {kind}s {listed})")
            if get_dimensions(unit) != get_dimensions(expected[var]):
                raise EquationFileError(f"{read.path}:{lineno}: {kind} '{var}' is declared with unit {_decl_unit(unit)}, "
                                        f"but the contract ({where}) expects {_decl_unit(expected[var])}")
    for kind, declared, expected in kinds:
        first = min((line for _, line in declared.values()), default=1)
        for var, unit in expected.items():
            if var not in declared:
                raise EquationFileError(f"{read.path}:{first}: the contract ({where}) expects the declaration "
                                        f"'#: {kind} {var} : {_decl_unit(unit)}' in this file, but it is missing")


def _decl_unit(unit) -> str:
    """A unit as a declaration writes it (``1``, ``ms``, ``Hz**2``, ``ms**-1``)."""
    return "1" if get_dimensions(unit) is DIMENSIONLESS else str(unit).replace("^", "**")


def _dim_str(dim) -> str:
    dim = get_dimensions(dim)
    return "1 (dimensionless)" if dim is DIMENSIONLESS else str(dim)


#: Integration methods of Brian2 that accept stochastic differential equations (white noise xi).
STOCHASTIC_METHODS = ("euler", "heun")


def _is_noise(name: str) -> bool:
    """Brian2's white-noise symbols: ``xi`` and ``xi_<suffix>`` (units of 1/sqrt(second))."""
    return name == "xi" or name.startswith("xi_")


def _check_noise(path, lineno, eq, noise, directives):
    """A noise term is allowed in a differential equation integrated by a stochastic method."""
    if eq.type != DIFFERENTIAL_EQUATION:
        raise EquationFileError(f"{path}:{lineno}: white noise ({', '.join(noise)}) is only allowed in a "
                                f"differential equation, not in the definition of '{eq.varname}'")
    method, mline = directives.get("method", (None, lineno))
    if method not in STOCHASTIC_METHODS:
        raise EquationFileError(
            f"{path}:{lineno}: the equation for '{eq.varname}' has a noise term ({', '.join(noise)}), which "
            f"needs a stochastic integration method: set '#: method = euler' (or heun) in this file"
            + (f" (line {mline} says {method!r})" if method else ""))


def load_all(namespace: dict, directory: Path | None = None, variants=()) -> dict:
    """Load and validate every compartment file; returns name -> CompartmentFile.

    Files of :data:`~brian_segdend.model.contract.OPTIONAL_COMPARTMENTS` are loaded only when the
    folder has them; ``variants``: names of ``contract.VARIANT_COMPARTMENTS`` files to load too (e.g.
    ``hidden_burst`` for burst-coded plateaus; the others are not read). Besides each file on its
    own, checks that files combined into one group (:data:`brian_segdend.model.contract.GROUPS`)
    do not define the same name.
    """
    folder = Path(directory) if directory is not None else default_equation_dir()
    files = {name: load_compartment(name, namespace, directory) for name in COMPARTMENTS
             if name not in OPTIONAL_COMPARTMENTS or (folder / f"{name}.eqs").exists()}
    files.update({name: load_compartment(name, namespace, directory) for name in variants})
    seen_params = {}
    for f in files.values():
        for pname, up in f.user_params.items():
            first = seen_params.setdefault(pname, up)
            if first is not up and (first.dim != up.dim or format_quantity(first.default) != format_quantity(up.default)):
                raise EquationFileError(
                    f"{up.path}:{up.value_line}: parameter '{pname}' is also declared in {first.where} with "
                    f"another unit or value; a parameter declared in several files needs the same one")
    for spec in GROUPS.values():
        if any(member not in files for member in spec.files):
            continue          # a group of an optional file that this folder lacks
        group = spec.label
        seen = {}
        for member in spec.files:
            f = files[member]
            for var, lineno in sorted(f.lines.items(), key=lambda kv: kv[1]):
                if var in seen:
                    other = files[seen[var]]
                    raise EquationFileError(
                        f"{f.path}:{lineno}: '{var}' is also defined in {other.path}:{other.lines[var]}; "
                        f"both files make up the {group} group, so the name must be unique")
                seen[var] = member
    return files


def user_params(files: dict) -> dict:
    """Name -> :class:`UserParam` of every user parameter declared in ``files`` (from :func:`load_all`)."""
    out = {}
    for f in files.values():
        for name, up in f.user_params.items():
            out.setdefault(name, up)
    return out


def resolve_user_params(files: dict, given=None, source: str = "--set") -> dict:
    """The value of every user parameter of ``files``: ``given`` (name -> value) over the defaults.

    Parameters
    ----------
    files : dict
        Name -> :class:`CompartmentFile` (from :func:`load_all`).
    given : dict, optional
        Values set for this run (Quantity, number, or text such as ``"0.02/ms"``).
    source : str
        Where ``given`` comes from, for messages.

    Returns
    -------
    dict
        Name -> Quantity (or float when dimensionless), every declared parameter.

    Raises
    ------
    ParameterError
        An undeclared name (the message lists the declared ones) or a value whose units differ
        from the declaration (naming the parameter and its ``file:line``).
    """
    declared = user_params(files)
    out = {name: up.default for name, up in declared.items()}
    for name, value in (given or {}).items():
        if name not in declared:
            known = ", ".join(f"{n} ({_dim_str(up.dim)}, {up.path.name}:{up.line})" for n, up in sorted(declared.items()))
            folder = next(iter(files.values())).path.parent if files else "the equation folder"
            raise ParameterError(
                f"parameter '{name}' ({source}): not declared in the equation files of {folder}; "
                + (f"declared there: {known}" if known else "none declares a parameter")
                + f". Declare it in a file as '{name} : <unit> (shared, constant)' with a line "
                  f"'#: param {name} = <value>'")
        try:
            value = parse_quantity(value)
        except QuantityParseError as e:
            raise ParameterError(f"parameter '{name}' ({source}): {e}") from None
        up = declared[name]
        if get_dimensions(value) != up.dim:
            raise ParameterError(f"parameter '{name}' ({source}): got {format_quantity(value)}, which has units "
                                 f"{_dim_str(get_dimensions(value))}; {up.where} declares it in {_dim_str(up.dim)}")
        out[name] = value
    return out
