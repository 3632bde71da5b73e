"""The page of one public function: its docstring, and for the rule table its derivative.

``function_page(module, name)`` writes ``api/generated/<module>.<name>.rst`` (called by
``adfun_api``).  For a function of the rule table (``adfun.numpy._declare.REGISTRY`` and
``COMPOSITES``) the page adds, generated from the registry at build time:

* **Derivative rules**: the source of each reverse (VJP) and forward (JVP) rule, as
  declared beside the primitive (for an elementwise function, its pointwise derivative);
  for a composite, that it is differentiated through the functions it is written with;
* **Example**: the function and a derivative of it on an input drawn from the
  function's own test domain (the first example Hypothesis finds there, so the same on
  every build), with the printed results computed while the page is written.
"""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import io
import textwrap
import warnings
from contextlib import redirect_stdout
from typing import Any

import numpy as np

#: Printed arrays on the generated examples are short.
PRINT_OPTIONS = {"precision": 6, "suppress": True, "threshold": 12, "edgeitems": 2}
#: Examples whose input or output text is longer are left out.
MAX_EXAMPLE_CHARS = 900


@functools.lru_cache(maxsize=1)
def _registry() -> tuple[dict[int, tuple[str, Any]], dict[int, tuple[str, Any]]]:
    from adfun.numpy._declare import COMPOSITES, REGISTRY

    primitives = {id(fun): (key, fun) for key, fun in REGISTRY.items()}
    composites = {id(fun): (key, fun) for key, fun in COMPOSITES.items()}
    return primitives, composites


def _source_of(function: Any) -> str | None:
    """Readable source of a rule (annotations dropped; a lambda as its expression)."""
    try:
        from adfun._staging.source import SourceError, _function_tree
    except ImportError:  # pragma: no cover - an adfun without the source writer
        return None
    try:
        tree = _function_tree(function)
    except (SourceError, TypeError, OSError):
        return None
    body = tree.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:] or [ast.Pass()]
    tree.body = body
    return ast.unparse(tree)


def _closure(function: Any) -> dict[str, Any]:
    cells = getattr(function, "__closure__", None) or ()
    return dict(zip(function.__code__.co_freevars, (cell.cell_contents for cell in cells)))


def _argument_names(fun: Any, count: int) -> list[str]:
    try:
        parameters = [
            p.name
            for p in inspect.signature(fun).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):
        parameters = []
    return parameters[:count] + [f"argument {n}" for n in range(len(parameters), count)]


def _rule_lines(fun: Any, primitive: Any) -> list[str]:
    from adfun._engine.records import Joint, Variadic

    lines: list[str] = []
    derivative = None
    for rule in primitive.vjps if isinstance(primitive.vjps, tuple) else ():
        if rule is not None and "derivative" in _closure(rule):
            derivative = _closure(rule)["derivative"]
    if derivative is not None:
        text = _source_of(derivative)
        if text is not None:
            lines += [
                "Elementwise: both rules multiply the pointwise derivative "
                "``derivative(ans, x)`` (``ans`` is the result) by the cotangent ``g`` "
                "(reverse mode) or the tangent ``t`` (forward mode):",
                "",
                ".. code-block:: python",
                "",
                textwrap.indent(text.replace("def impl(", "def derivative("), "   "),
                "",
            ]
            return lines
    for mode, rules, seed in (
        ("Reverse mode (VJP)", primitive.vjps, "g"),
        ("Forward mode (JVP)", primitive.jvps, "t"),
    ):
        if rules is None or (isinstance(rules, tuple) and not any(rules)):
            lines += [f"**{mode}**: none.", ""]
            continue
        if isinstance(rules, (Variadic, Joint)):
            kind = "one rule for every argument" if isinstance(rules, Variadic) else (
                "one rule for all traced arguments together"
            )
            entries = [(kind, rules.rule)]
        else:
            names = _argument_names(fun, len(rules))
            entries = [
                (f"for ``{name}``", rule) for name, rule in zip(names, rules) if rule is not None
            ]
        lines += [f"**{mode}**, with ``{seed}`` the {'cotangent' if seed == 'g' else 'tangent'} "
                  f"and ``ans`` the result:", ""]
        for label, rule in entries:
            text = _source_of(rule)
            if text is None:
                lines += [f"* {label}: ``{getattr(rule, '__qualname__', rule)!s}``", ""]
                continue
            for helper_name, value in _closure(rule).items():
                helper = _source_of(value) if inspect.isfunction(value) else None
                if helper is not None:  # a closure's pointwise pieces (``dx``, ``dy``)
                    text = helper.replace("def impl(", f"def {helper_name}(") + "\n\n" + text
            lines += [f"* {label}:", "", "  .. code-block:: python", ""]
            lines += [textwrap.indent(text, "     "), ""]
    return lines


@functools.lru_cache(maxsize=None)
def _domain_example(key: str, is_primitive: bool) -> tuple[tuple, dict] | None:
    """``(args, params)``: the first example Hypothesis finds in the test domain."""
    try:
        from hypothesis import HealthCheck, Phase, find, settings
        from hypothesis import strategies as st
        from hypothesis.extra import numpy as hnp
    except ImportError:  # Hypothesis (the test extra) is not installed: no examples
        return None
    from adfun.numpy._declare import COMPOSITES, REGISTRY
    from adfun.numpy._examples import draw_example

    if is_primitive and REGISTRY[key].primitive.domain is None:
        # A constant for differentiation (comparisons, rounding...): no test domain.
        sample = np.array([-1.5, 0.5, 2.0])
        try:
            REGISTRY[key](sample)
        except TypeError:  # a function of two arrays
            return (sample, np.array([0.5, 0.5, 3.0])), {}
        except Exception:  # noqa: BLE001 - no simple example
            return None
        return (sample,), {}

    @st.composite
    def examples(draw: Any) -> Any:
        if is_primitive:
            return draw_example(draw, st, hnp, REGISTRY[key].primitive)
        return COMPOSITES[key].domain.examples(draw, st, hnp)

    # Generation only (no shrinking): the first fitting draw of a derandomized run, so
    # the same on every build and quick.
    quiet = settings(
        database=None,
        derandomize=True,
        max_examples=20,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                args, params = find(examples(), _interesting, settings=quiet)
            except Exception:  # noqa: BLE001 - none of a few draws fits: take the first
                args, params = find(examples(), lambda example: True, settings=quiet)
    except Exception:  # noqa: BLE001 - no example: the page goes without one
        return None
    return tuple(args), dict(params)


def _interesting(example: Any) -> bool:
    """Prefer inputs with a few nonzero entries to the minimal all-zeros example."""
    args, _ = example
    arrays = [np.asarray(arg) for arg in args if isinstance(arg, (np.ndarray, float))]
    return bool(arrays) and arrays[0].size >= 2 and np.unique(arrays[0]).size >= 2


def _literal(value: Any) -> str:
    """``np.array([...])`` of an input (exact: floats print as their shortest repr)."""
    if isinstance(value, (list, tuple)):
        inner = ", ".join(_literal(item) for item in value)
        if isinstance(value, list):
            return f"[{inner}]"
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if not isinstance(value, np.ndarray):
        return repr(value)
    dtype = value.dtype
    default = dtype in (np.dtype(float), np.dtype(int), np.dtype(bool))
    suffix = "" if default else f", dtype=np.{dtype.name}"
    return f"np.array({value.tolist()!r}{suffix})"


def _session(lines: list[tuple[str, Any]], namespace: dict) -> list[str]:
    """``>>> code`` lines with their printed results, evaluated in ``namespace``."""
    out: list[str] = []
    with np.printoptions(**PRINT_OPTIONS), warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        for code, _ in lines:
            out.append(f">>> {code}")
            buffer = io.StringIO()
            with redirect_stdout(buffer):
                try:
                    result = eval(code, namespace)  # noqa: S307 - our generated lines
                except SyntaxError:
                    exec(code, namespace)  # noqa: S102
                    result = None
            if result is not None:
                out.append(repr(result))
            if buffer.getvalue():
                out.append(buffer.getvalue().rstrip("\n"))
    return out


def example_lines(call: str, fun: Any, key: str, is_primitive: bool) -> list[str]:
    """A short session: the inputs, the value, and a derivative, computed now."""
    example = _domain_example(key, is_primitive)
    if example is None:
        return []
    args, params = example
    import adfun as ad

    names = _argument_names(fun, len(args))
    names = [name if name.isidentifier() else f"x{n}" for n, name in enumerate(names)]
    namespace: dict = {"np": np, "ad": ad, "anp": importlib.import_module("adfun.numpy")}
    if call.startswith("adfun."):  # e.g. adfun.scipy.special.erf
        importlib.import_module(call.rsplit(".", 1)[0])
        namespace["adfun"] = ad
    steps: list[tuple[str, Any]] = []
    for name, arg in zip(names, args):
        steps.append((f"{name} = {_literal(arg)}", None))
    keywords = "".join(f", {key}={value!r}" for key, value in params.items())
    arguments = ", ".join(names)
    steps.append((f"{call}({arguments}{keywords})", None))
    floats = [
        n for n, arg in enumerate(args)
        if isinstance(arg, (np.ndarray, float)) and np.asarray(arg).dtype.kind == "f"
    ]
    if floats:
        first = names[floats[0]]
        rest = ", ".join(name if n != floats[0] else first for n, name in enumerate(names))
        inner = f"{call}({rest}{keywords})"
        try:
            scratch = dict(namespace)
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                for code, _ in steps[:-1]:
                    exec(code, scratch)  # noqa: S102 - our generated lines
                scalar = np.ndim(eval(steps[-1][0], scratch)) == 0  # noqa: S307
        except Exception:  # noqa: BLE001 - a tuple result, or an error: sum it
            scalar = False
        lambda_text = f"lambda {first}: {inner}" if scalar else f"lambda {first}: anp.sum({inner})"
        steps.append((f"ad.grad({lambda_text})({first})", None))
    try:
        lines = _session(steps, namespace)
    except Exception:  # noqa: BLE001 - e.g. a tuple result: keep the value alone
        try:
            lines = _session(steps[:-1], namespace)
        except Exception:  # noqa: BLE001
            return []
    if sum(len(line) for line in lines) > MAX_EXAMPLE_CHARS:
        return []
    return lines


def function_page(module_name: str, name: str) -> str:
    """The reStructuredText of the page of ``module_name.name``."""
    module = importlib.import_module(module_name)
    fun = getattr(module, name)
    title = f"``{module_name}.{name}``"
    lines = [title, "=" * len(title), "", f".. currentmodule:: {module_name}", "",
             f".. autofunction:: {name}", ""]
    primitives, composites = _registry()
    entry = primitives.get(id(fun)) or composites.get(id(fun))
    if entry is None:
        return "\n".join(lines)
    key, _ = entry
    is_primitive = id(fun) in primitives
    lines += [".. rubric:: Derivative rules", ""]
    if is_primitive:
        primitive = fun.primitive
        if primitive.nondiff:
            lines += [
                f"``{key}`` is a constant for differentiation: its result has no derivative "
                "(its rules are zero), like that of a comparison.",
                "",
            ]
        else:
            lines += [f"Declared with the primitive ``{key}`` (see the "
                      ":doc:`coverage table </coverage>`):", ""]
            lines += _rule_lines(fun, primitive)
    else:
        lines += [
            f"``{name}`` is written with other differentiable functions of adfun, so its "
            "derivatives in both modes, to any order, are theirs composed (it has no rule "
            "of its own); its test domain checks them against finite differences.",
            "",
        ]
    call = f"{_short_module(module_name)}.{name}"
    session = example_lines(call, fun, key, is_primitive)
    if session:
        lines += [".. rubric:: Example", "",
                  "Generated from the function's test domain when these pages were built:", "",
                  ".. code-block:: pycon", ""]
        lines += [textwrap.indent(line, "   ") for line in session]
        lines.append("")
    return "\n".join(lines)


def _short_module(module_name: str) -> str:
    if module_name == "adfun":
        return "ad"
    if module_name.startswith("adfun.numpy"):
        return "anp" + module_name[len("adfun.numpy"):]
    return module_name
