"""A graph as standalone NumPy source: ``Graph.to_python()`` and ``jit(f).source(...)``.

The text is one Python module that needs NumPy (and SciPy where the graph calls it), not
adfun: ``import numpy as np``, the helper functions the graph's primitives are
implemented with (copied from adfun's source, type annotations dropped), the graph's
array constants, and one function with a statement per node::

    def grad_f(x):
        sin_1 = np.sin(x)
        cos_2 = np.cos(x)
        ...
        return multiply_5

Values are named after the user's arguments where they are known and after the
primitive that computes them otherwise.  Constants are written exactly: numbers by their
``repr`` (with their NumPy type), small arrays as ``np.array`` literals, larger ones as
their bytes in base64.  A primitive implemented by a NumPy or SciPy function is called
by its public name (``np.sum``, ``np.linalg.det``); an arithmetic ufunc without
parameters is written with its Python operator (``x * y``, ``-x``, ``a @ b``), which NumPy
evaluates with the same ufunc.
"""

from __future__ import annotations

import ast
import base64
import builtins
import copy
import functools
import inspect
import keyword
import re
import sys
import textwrap
import types
from pathlib import Path
from typing import Any

import numpy as np

from adfun._engine.pytree import leaf_paths
from adfun._engine.records import CONSTANT

#: Ufuncs written with Python's operators: NumPy implements the operators with them.
_BINARY_OPERATORS = {
    np.add: "+",
    np.subtract: "-",
    np.multiply: "*",
    np.true_divide: "/",
    np.power: "**",
    np.matmul: "@",
    np.floor_divide: "//",
    np.remainder: "%",
}
_UNARY_OPERATORS = {np.negative: "-", np.positive: "+"}
#: Arrays with at most this many entries are written as ``np.array([...])`` literals.
_LITERAL_SIZE = 16
#: Public modules searched for the public name of a NumPy or SciPy object, and how the
#: generated source refers to them.
_PUBLIC_MODULES = {
    "numpy": "np",
    "numpy.linalg": "np.linalg",
    "numpy.fft": "np.fft",
    "scipy.special": "scipy.special",
    "scipy.linalg": "scipy.linalg",
    "scipy.stats": "scipy.stats",
}


class SourceError(ValueError):
    """A value or function of the graph has no standalone source form."""


def _identifier(text: str, fallback: str) -> str:
    if text.isidentifier() and not keyword.iskeyword(text):
        return text
    name = re.sub(r"\W+", "_", text).strip("_")
    if not name or name[0].isdigit() or keyword.iskeyword(name):
        name = f"{fallback}_{name}" if name else fallback
    return name


class _Writer:
    """Collects the imports, helpers and constants one generated module needs."""

    def __init__(self) -> None:
        self.imports: set[str] = {"import numpy as np"}
        self.helpers: list[str] = []
        self.constants: list[str] = []
        self.bound: dict[str, Any] = {}  # module-level name -> object it stands for
        self.helper_names: dict[int, str] = {}  # id(function) -> name in the module
        self.arrays: dict[int, str] = {}  # id(array) -> its module-level name
        self.keep: list = []  # the arrays of ``arrays``, alive while ids are keys
        self.wrappers: dict[int, Any] = {}  # id(helper) -> its NumPy call, see forward_call
        self.stand_ins: dict[str, int] = {}  # empty stand-in class -> index in helpers
        # Python's builtins stay readable: a value computed by ``sum`` is ``sum_1``.
        self.taken: set[str] = {"np", "scipy", "base64", *dir(builtins)}

    # --- names of objects -------------------------------------------------------------
    def fresh(self, base: str) -> str:
        base = _identifier(base, "v")
        name = base
        number = 0
        while name in self.taken:
            number += 1
            name = f"{base}_{number}"
        self.taken.add(name)
        return name

    def public_path(self, obj: Any) -> str | None:
        """``np.sin``, ``np.linalg.det``, ``scipy.special.erf``, ``np.add.at``..."""
        owner = getattr(obj, "__self__", None)
        if isinstance(owner, np.ufunc):  # a ufunc method: np.add.at
            base = self.public_path(owner)
            return f"{base}.{obj.__name__}" if base else None
        name = getattr(obj, "__name__", None)
        if not isinstance(name, str):
            return None
        module = getattr(obj, "__module__", None) or ""
        if isinstance(obj, np.ufunc) and not module:
            module = "numpy"
        candidates = list(_PUBLIC_MODULES)
        public = ".".join(part for part in module.split(".") if not part.startswith("_"))
        if public in _PUBLIC_MODULES:
            candidates.insert(0, public)
        for candidate in candidates:
            if candidate.startswith("scipy") and candidate not in sys.modules:
                continue
            namespace = sys.modules.get(candidate)
            if namespace is None:
                continue
            if getattr(namespace, name, None) is obj:
                if candidate.startswith("scipy"):
                    self.imports.add(f"import {candidate}")
                return f"{_PUBLIC_MODULES[candidate]}.{name}"
        # Python's own modules (operator, math, functools, builtins).
        root = module.split(".")[0]
        if module and root != "adfun" and getattr(sys.modules.get(module), name, None) is obj:
            if module == "builtins":
                return name
            self.imports.add(f"import {module}")
            return f"{module}.{name}"
        return None

    def forward_call(self, function: Any) -> Any:
        """For a helper ``def f(a, axis=None): return np.sum(a, axis=axis)``: the NumPy
        function it forwards to and how (``None`` for other functions)."""
        if id(function) in self.wrappers:
            return self.wrappers[id(function)]
        self.wrappers[id(function)] = plan = _forwarding_plan(function, self)
        return plan

    def call_text(self, function: Any, operands: list[str], keywords: dict, role: str) -> str:
        """``np.sum(a, axis=0)``: a call of ``function`` (a helper that only forwards to a
        NumPy function is skipped)."""
        plan = self.forward_call(function) if _is_adfun(function) else None
        if plan is not None:
            target, parameters, defaults, positional, named = plan
            given = dict(zip(parameters, operands))
            given.update(keywords)
            if len(operands) <= len(parameters) and all(k in parameters for k in keywords):
                texts = [given.get(p, defaults.get(p)) for p in positional]
                pairs = [(key, given.get(p, defaults.get(p))) for key, p in named]
                if None not in texts and all(text is not None for _, text in pairs):
                    inner = texts + [f"{key}={text}" for key, text in pairs]
                    return f"{target}({', '.join(inner)})"
        name = self.callable_text(function, role)
        inner = operands + [f"{key}={text}" for key, text in keywords.items()]
        return f"{name}({', '.join(inner)})"

    def callable_text(self, function: Any, role: str) -> str:
        """How the generated source calls ``function`` (a public name or a helper)."""
        path = self.public_path(function)
        if path is not None:
            return path
        if isinstance(function, types.FunctionType):
            return self.helper(function)
        raise SourceError(
            f"to_python: {role} is {function!r}, which has no public NumPy name and no "
            f"Python source to copy"
        )

    # --- helpers copied from adfun's source -------------------------------------------
    def helper(self, function: types.FunctionType) -> str:
        known = self.helper_names.get(id(function))
        if known is not None:
            return known
        tree = _function_tree(function)
        base = function.__name__ if function.__name__ != "<lambda>" else "impl"
        module_name = (function.__module__ or "").rsplit(".", 1)[-1].strip("_")
        if base in ("impl", "fun", "rule") and module_name:
            base = f"{module_name}_{base}"
        if function.__closure__:
            name = self.fresh(base)
            self.helper_names[id(function)] = name
            self._closure_helper(function, tree, name)
            return name
        if base in self.taken and self.bound.get(base) is not function:
            name = self.fresh(base)
        else:
            name = base
            self.taken.add(name)
        self.helper_names[id(function)] = name
        self.bound[name] = function
        tree.name = name
        # Its globals first, so that the helper reads them once defined.
        for global_name in _free_names(tree, function):
            self.bind_global(
                global_name,
                function.__globals__[global_name],
                function,
                type_test_only=_only_type_tests(tree, global_name),
            )
        self.helpers.append(ast.unparse(tree))
        return name

    def _closure_helper(self, function: types.FunctionType, tree: Any, name: str) -> None:
        """A closure becomes a factory that binds its free variables, then returns it."""
        lines = [f"def _make_{name}():"]
        assert function.__closure__ is not None
        for variable, cell in zip(function.__code__.co_freevars, function.__closure__):
            lines.append(f"    {variable} = {self.value_text(cell.cell_contents, variable)}")
        for global_name in _free_names(tree, function):
            if global_name not in function.__code__.co_freevars:
                self.bind_global(
                    global_name,
                    function.__globals__[global_name],
                    function,
                    type_test_only=_only_type_tests(tree, global_name),
                )
        tree.name = "inner"
        lines.append(textwrap.indent(ast.unparse(tree), "    "))
        lines.append("    return inner")
        lines.append(f"{name} = _make_{name}()")
        self.helpers.append("\n".join(lines))

    def bind_global(self, name: str, value: Any, user: Any, type_test_only: bool = False) -> None:
        """Make module-level ``name`` stand for ``value`` (a global a helper reads).

        ``type_test_only``: the helper only tests values against ``value`` (a class), with
        ``isinstance``, ``issubclass`` or ``type(x) is value``."""
        if name in self.bound:
            if self.bound[name] is value or _same_value(self.bound[name], value):
                if name in self.stand_ins and not type_test_only:
                    # First met in a type test, now used for real: the class itself.
                    self.helpers[self.stand_ins.pop(name)] = self.class_text(value, name)
                return
            raise SourceError(
                f"to_python: two helpers read different values under the global name "
                f"{name!r} (one of them is {user.__qualname__}); this graph cannot be "
                f"written as one module"
            )
        self.bound[name] = value
        self.taken.add(name)
        if isinstance(value, types.ModuleType):
            if value.__name__ == "numpy" and name == "np":
                return
            if value.__name__.split(".")[0] == "adfun":
                raise SourceError(
                    f"to_python: {user.__qualname__} uses adfun's module {value.__name__} "
                    f"(as {name!r}); it has no standalone source"
                )
            self.imports.add(
                f"import {value.__name__}"
                if name == value.__name__
                else f"import {value.__name__} as {name}"
            )
            return
        if isinstance(value, types.FunctionType) and _is_adfun(value):
            helper = self.helper(value)
            if helper != name:
                self.helpers.append(f"{name} = {helper}")
            return
        if isinstance(value, type) and _is_adfun(value) and type_test_only:
            # An adfun class a helper tests values against (``type(x) is Tracer``): the
            # standalone code never meets its objects, so an empty class keeps the test.
            self.stand_ins[name] = len(self.helpers)
            self.helpers.append(
                f"class {name}:\n"
                f'    """Stands for adfun\'s {value.__qualname__}, whose objects this code '
                f'never receives."""'
            )
            return
        if isinstance(value, type) and _is_adfun(value):
            # A class the helper computes with (``_Jet.variable(a, 0, 1)``): its source.
            self.helpers.append(self.class_text(value, name))
            return
        self.helpers.append(f"{name} = {self.value_text(value, name)}")

    def class_text(self, cls: type, name: str) -> str:
        """The ``class`` statement of adfun class ``cls``, copied from its source without
        annotations and with its globals bound, defined under ``name``."""
        tree = _class_tree(cls)
        module_globals = vars(sys.modules[cls.__module__])
        if tree.name != name:
            # The helper reads it under another name: copy it under its own, then alias.
            if tree.name in self.bound and self.bound[tree.name] is not cls:
                raise SourceError(
                    f"to_python: class {cls.__qualname__} is read as {name!r}, and its own "
                    f"name is taken by another value; this graph cannot be written as one "
                    f"module"
                )
        for global_name in _class_free_names(tree, cls, module_globals):
            self.bind_global(
                global_name,
                module_globals[global_name],
                cls,
                type_test_only=_only_type_tests(tree, global_name),
            )
        text = ast.unparse(tree)
        if tree.name != name:
            self.bound.setdefault(tree.name, cls)
            self.taken.add(tree.name)
            text += f"\n{name} = {tree.name}"
        return text

    # --- values -------------------------------------------------------------------------
    def value_text(self, value: Any, role: str) -> str:
        """Source that evaluates to ``value`` (exactly: same type, dtype and bits)."""
        kind = type(value)
        if value is None or kind in (bool, int, str, bytes):
            return repr(value)
        if kind is float:
            return repr(value) if np.isfinite(value) else f"float({str(value)!r})"
        if kind is complex:
            if np.isfinite(value.real) and np.isfinite(value.imag):
                return repr(value)
            return (
                f"complex({self.value_text(value.real, role)}, {self.value_text(value.imag, role)})"
            )
        if value is Ellipsis:
            return "Ellipsis"
        if isinstance(value, np.generic):
            type_name = self.public_path(type(value)) or f"np.dtype({value.dtype.str!r}).type"
            return f"{type_name}({self.value_text(value.item(), role)})"
        if isinstance(value, np.ndarray):
            return self.array_text(value, role)
        if isinstance(value, np.dtype):
            return f"np.dtype({value.str!r})" if value.names is None else repr(value)
        if kind is slice:
            parts = (value.start, value.stop, value.step)
            return f"slice({', '.join(self.value_text(part, role) for part in parts)})"
        if kind is tuple:
            inner = ", ".join(self.value_text(item, role) for item in value)
            return f"({inner},)" if len(value) == 1 else f"({inner})"
        if kind is list:
            return "[" + ", ".join(self.value_text(item, role) for item in value) + "]"
        if kind is dict:
            return (
                "{"
                + ", ".join(
                    f"{self.value_text(key, role)}: {self.value_text(item, role)}"
                    for key, item in value.items()
                )
                + "}"
            )
        if kind in (frozenset, set):
            return f"{kind.__name__}([{', '.join(self.value_text(v, role) for v in value)}])"
        if isinstance(value, type) or callable(value):
            path = self.public_path(value)
            if path is not None:
                return path
            if isinstance(value, types.FunctionType) and _is_adfun(value):
                return self.helper(value)
        raise SourceError(
            f"to_python: {role} is {type(value).__name__} {value!r:.60}, which has no "
            f"standalone source form"
        )

    def array_text(self, value: np.ndarray, role: str) -> str:
        dtype = value.dtype
        if dtype.kind not in "biufc" or dtype.names is not None:
            raise SourceError(f"to_python: {role} is an array of dtype {dtype}")
        if value.size == 0:
            # ``tolist`` loses the shape of an empty array: ``(0, 1)`` gives ``[]``.
            return f"np.empty({value.shape!r}, dtype={self.dtype_text(dtype)})"
        if value.size <= _LITERAL_SIZE:
            items = _nested_text(value.tolist(), self, role)
            return f"np.array({items}, dtype={self.dtype_text(dtype)})"
        known = self.arrays.get(id(value))
        if known is not None:
            return known
        data = base64.b64encode(np.ascontiguousarray(value).tobytes()).decode("ascii")
        joined = "\n".join(f"    {line!r}" for line in textwrap.wrap(data, 76))
        name = self.fresh(f"const_{len(self.arrays) + 1}")
        self.arrays[id(value)] = name
        self.keep.append(value)
        shape = "x".join(str(side) for side in value.shape)
        self.constants.append(
            f"# {role}: {dtype.name}[{shape}], its bytes in base64\n"
            f"{name} = np.frombuffer(base64.b64decode(\n{joined}\n), dtype={dtype.str!r})"
            f".reshape({value.shape!r})"
        )
        return name

    def dtype_text(self, dtype: np.dtype) -> str:
        path = self.public_path(dtype.type)
        return path if path is not None and dtype.byteorder in "=|" else repr(dtype.str)


def _forwarding_plan(function: Any, writer: _Writer) -> Any:
    """``(target, parameters, defaults, positional, named)`` when ``function``'s body is
    only ``return np.NAME(...)`` of its own parameters, else ``None``."""
    if not isinstance(function, types.FunctionType) or function.__closure__:
        return None
    try:
        tree = _function_tree(function)
    except SourceError:
        return None
    body = [
        statement
        for statement in tree.body
        if not (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant))
    ]
    if len(body) != 1 or not isinstance(body[0], ast.Return):
        return None
    call = body[0].value
    if not isinstance(call, ast.Call):
        return None
    try:
        target_object = eval(  # noqa: S307 - a dotted name of the helper's module
            compile(ast.Expression(call.func), "<call>", "eval"), dict(function.__globals__)
        )
    except Exception:  # noqa: BLE001 - not a plain module attribute
        return None
    if not isinstance(call.func, (ast.Attribute, ast.Name)):
        return None
    target = writer.public_path(target_object)
    if target is None:
        return None
    arguments = tree.args
    if arguments.vararg or arguments.kwarg or arguments.kwonlyargs or arguments.posonlyargs:
        return None
    parameters = [argument.arg for argument in arguments.args]
    defaults: dict[str, str] = {}
    for parameter, default in zip(reversed(parameters), reversed(function.__defaults__ or ())):
        try:
            defaults[parameter] = writer.value_text(default, f"the default of {parameter}")
        except SourceError:
            return None
    positional = []
    for argument in call.args:
        if not isinstance(argument, ast.Name) or argument.id not in parameters:
            return None
        positional.append(argument.id)
    named = []
    for keyword_argument in call.keywords:
        value = keyword_argument.value
        if keyword_argument.arg is None or not isinstance(value, ast.Name):
            return None
        if value.id not in parameters:
            return None
        named.append((keyword_argument.arg, value.id))
    return target, parameters, defaults, positional, named


def _is_template_call(impl: Any, params: Any) -> bool:
    """A function of values (``adfun.numpy._declare.function_of_values``): its node holds
    the call with the traced leaves taken out, and the NumPy function in its closure."""
    if not params or list(params) != ["template"] or not isinstance(impl, types.FunctionType):
        return False
    template = params["template"]
    return (
        type(template).__name__ == "Template"
        and "numpy_fun" in impl.__code__.co_freevars
        and all(hasattr(template, field) for field in ("args", "kwargs", "output"))
    )


def _template_call(writer: _Writer, impl: Any, template: Any, operands: list[str]) -> str:
    """``np.sort(a, axis=-1)[0]``: the call of a template, its slots filled by operands."""
    assert impl.__closure__ is not None
    cells = dict(zip(impl.__code__.co_freevars, impl.__closure__))
    function = writer.callable_text(cells["numpy_fun"].cell_contents, "a function of values")
    role = f"an argument of {function}"
    arguments = [_fill(writer, value, operands, role) for value in template.args]
    arguments += [
        f"{key}={_fill(writer, value, operands, role)}" for key, value in template.kwargs.items()
    ]
    call = f"{function}({', '.join(arguments)})"
    if template.output is not None:
        call += f"[{writer.value_text(template.output, 'an output index')}]"
    return call


#: Indexing with traced indices: the key is a template whose slots are the node's
#: arguments after the first.
_INDEXING_AT = frozenset({"_getitem_at_impl", "_untake_at_impl"})


def _fill(writer: _Writer, value: Any, operands: list[str], role: str) -> str:
    """Source of a template's value with its slots (traced leaves) filled by operands."""
    if isinstance(value, tuple) and len(value) == 2 and type(value[0]).__name__ == "_Slot":
        return operands[value[1]]
    if type(value) in (list, tuple):
        inner = ", ".join(_fill(writer, item, operands, role) for item in value)
        if type(value) is list:
            return f"[{inner}]"
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if type(value) is dict:
        return (
            "{"
            + ", ".join(
                f"{key!r}: {_fill(writer, item, operands, role)}" for key, item in value.items()
            )
            + "}"
        )
    return writer.value_text(value, role)


def _nested_text(items: Any, writer: _Writer, role: str) -> str:
    if isinstance(items, list):
        return "[" + ", ".join(_nested_text(item, writer, role) for item in items) + "]"
    return writer.value_text(items, role)


def _same_value(a: Any, b: Any) -> bool:
    try:
        return bool(type(a) is type(b) and a == b)
    except Exception:  # arrays and other values without a plain truth  # noqa: BLE001
        return False


def _is_adfun(function: Any) -> bool:
    return (getattr(function, "__module__", None) or "").split(".")[0] == "adfun"


@functools.lru_cache(maxsize=64)
def _parsed(path: str) -> Any:
    """The syntax tree of a source file (``None`` when it cannot be read)."""
    try:
        return ast.parse(Path(path).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return None


def _function_tree(function: types.FunctionType) -> Any:
    """The ``def`` (or ``lambda``, as a ``def``) of ``function``, without annotations and
    decorators."""
    code = function.__code__
    try:
        path = inspect.getsourcefile(function)
    except TypeError:
        path = None
    module = _parsed(path) if path else None
    if module is None:
        raise SourceError(f"to_python: the source of {function.__qualname__} is not available")
    found: Any = None
    for node in ast.walk(module):
        if isinstance(node, (ast.FunctionDef, ast.Lambda)):
            first = node.lineno
            if isinstance(node, ast.FunctionDef) and node.decorator_list:
                first = node.decorator_list[0].lineno
            if first != code.co_firstlineno:
                continue
            if isinstance(node, ast.FunctionDef) and node.name != function.__name__:
                continue
            if found is not None:
                raise SourceError(
                    f"to_python: {function.__qualname__} shares its line with another "
                    f"function, so its source cannot be told apart"
                )
            found = node
    if found is None:
        raise SourceError(f"to_python: the source of {function.__qualname__} was not found")
    found = copy.deepcopy(found)  # the parsed file is cached: change a copy
    if isinstance(found, ast.Lambda):
        found = ast.FunctionDef(
            name="impl", args=found.args, body=[ast.Return(found.body)], decorator_list=[]
        )
    else:
        found.decorator_list = []
    found.returns = None
    if sys.version_info >= (3, 12):
        found.type_params = []
    for node in ast.walk(found):
        if isinstance(node, ast.arg):
            node.annotation = None
    ast.fix_missing_locations(found)
    return found


def _class_tree(cls: type) -> Any:
    """The ``class`` statement of ``cls`` (defined at its module's top level), without
    annotations and with only the builtin decorators (``classmethod``...) of its methods."""
    try:
        path = inspect.getsourcefile(cls)
    except TypeError:
        path = None
    module = _parsed(path) if path else None
    if module is None or cls.__qualname__ != cls.__name__:
        raise SourceError(f"to_python: the source of class {cls.__qualname__} is not available")
    found = [
        node for node in module.body if isinstance(node, ast.ClassDef) and node.name == cls.__name__
    ]
    if len(found) != 1 or found[0].decorator_list or found[0].keywords:
        raise SourceError(
            f"to_python: the source of class {cls.__qualname__} cannot be copied (it is "
            f"defined more than once, or decorated, or has class keywords)"
        )
    tree = copy.deepcopy(found[0])  # the parsed file is cached: change a copy
    body = []
    for statement in tree.body:
        if isinstance(statement, ast.AnnAssign):
            if statement.value is None:
                continue  # a bare annotation defines nothing
            statement = ast.Assign(targets=[statement.target], value=statement.value)
        elif isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for decorator in statement.decorator_list:
                if not (isinstance(decorator, ast.Name) and _is_builtin_name(decorator.id)):
                    raise SourceError(
                        f"to_python: method {statement.name} of class {cls.__qualname__} "
                        f"has a decorator that is not a builtin"
                    )
            statement.returns = None
            if sys.version_info >= (3, 12):
                statement.type_params = []
            for node in ast.walk(statement):
                if isinstance(node, ast.arg):
                    node.annotation = None
        body.append(statement)
    tree.body = body or [ast.Pass()]
    ast.fix_missing_locations(tree)
    return tree


def _class_free_names(tree: Any, cls: type, module_globals: dict) -> list[str]:
    """Global names the class statement ``tree`` of ``cls`` reads, in first-use order: its
    bases, the names its methods read as globals and the names its body reads before
    defining them."""
    names: list[str] = []

    def note(name: str) -> None:
        if name in module_globals and name not in names and name != cls.__name__:
            if not _is_builtin(name, module_globals[name]):
                names.append(name)

    for base in tree.bases:
        for node in ast.walk(base):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                note(node.id)
    defined: set[str] = set()
    for statement in tree.body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
            method = inspect.unwrap(_method_function(cls, statement.name))
            local = set(method.__code__.co_varnames) | set(method.__code__.co_freevars)
            for node in ast.walk(statement):
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                    if node.id not in local:
                        note(node.id)
            defined.add(statement.name)
            continue
        for node in ast.walk(statement):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                if node.id not in defined:
                    note(node.id)
        for node in ast.walk(statement):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                defined.add(node.id)
    return names


def _method_function(cls: type, name: str) -> Any:
    """The plain function of method ``name`` of ``cls`` (unwrapping classmethod,
    staticmethod and property)."""
    attribute = cls.__dict__.get(name)
    if isinstance(attribute, (classmethod, staticmethod)):
        attribute = attribute.__func__
    elif isinstance(attribute, property):
        attribute = attribute.fget
    if not isinstance(attribute, types.FunctionType):
        raise SourceError(
            f"to_python: method {name} of class {cls.__qualname__} is not a plain function"
        )
    return attribute


def _only_type_tests(tree: Any, name: str) -> bool:
    """Whether ``tree`` reads global ``name`` only to test values against it:
    ``isinstance(x, name)``, ``issubclass(c, (name, ...))``, ``type(x) is name``."""
    tested: set[int] = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("isinstance", "issubclass")
            and len(node.args) == 2
        ):
            classes = node.args[1]
            items = classes.elts if isinstance(classes, ast.Tuple) else [classes]
            tested.update(id(item) for item in items)
        elif isinstance(node, ast.Compare) and all(
            isinstance(op, (ast.Is, ast.IsNot)) for op in node.ops
        ):
            tested.update(id(item) for item in [node.left, *node.comparators])
    uses = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id == name
    ]
    return bool(uses) and all(id(node) in tested for node in uses)


def _is_builtin_name(name: str) -> bool:
    return hasattr(builtins, name)


def _free_names(tree: Any, function: types.FunctionType) -> list[str]:
    """Global names ``tree`` reads that ``function``'s module defines, in first-use order."""
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            name = node.id
            if (
                name in function.__globals__
                and name not in names
                and name not in function.__code__.co_varnames
                and name not in function.__code__.co_freevars
            ):
                names.append(name)
    return [name for name in names if not _is_builtin(name, function.__globals__[name])]


def _is_builtin(name: str, value: Any) -> bool:
    return getattr(builtins, name, None) is value


def _argument_names(graph: Any, names: Any) -> list[str]:
    """One identifier per input of ``graph``: ``names`` if given, else from its pytree."""
    count = len(graph.inputs)
    if names is not None:
        names = [_identifier(str(name), "arg") for name in names]
        if len(names) != count:
            raise ValueError(
                f"to_python: arg_names has {len(names)} names, but graph {graph.name} has "
                f"{count} inputs"
            )
        return names
    tree = graph.in_tree
    if (
        tree is not None
        and tree.kind == "tuple"
        and all(child.kind == "leaf" for child in tree.children)
    ):
        tree = None  # positional arrays: x, or x0, x1, ...
    if tree is not None and tree.num_leaves == count:
        paths = leaf_paths(tree, "x")
        return [_identifier(path.replace("][", "_"), "x") for path in paths]
    return [f"x{number}" if count > 1 else "x" for number in range(count)]


def _returned(tree: Any, names: list[str]) -> str:
    """The outputs arranged as the result's pytree (tuples, lists and dicts; other
    containers are returned as tuples of their leaves)."""
    if tree is None or tree.num_leaves != len(names):
        return names[0] if len(names) == 1 else "(" + ", ".join(names) + ")"
    iterator = iter(names)

    def build(node: Any) -> str:
        if node.kind == "leaf":
            return next(iterator)
        inner = [build(child) for child in node.children]
        if node.kind in ("dict", "ordereddict", "defaultdict"):
            return "{" + ", ".join(f"{key!r}: {text}" for key, text in zip(node.keys, inner)) + "}"
        if node.kind == "list":
            return "[" + ", ".join(inner) + "]"
        return "(" + ", ".join(inner) + ("," if len(inner) == 1 else "") + ")"

    return build(tree)


def graph_source(graph: Any, name: str | None = None, arg_names: Any = None) -> str:
    """Standalone NumPy source of ``graph`` (what :meth:`Graph.to_python` returns)."""
    writer = _Writer()
    function_name = _identifier(name or graph.name, "staged")
    writer.taken.add(function_name)
    values: dict[int, str] = {}
    parameters = []
    for node, argument in zip(graph.inputs, _argument_names(graph, arg_names)):
        parameter = writer.fresh(argument)
        values[id(node)] = parameter
        parameters.append(parameter)
    body = []
    for node in graph.nodes:
        if id(node) in values:
            continue
        primitive = node.primitive
        if primitive is CONSTANT:
            variable = writer.fresh("const")
            body.append(f"{variable} = {writer.value_text(node.args[0], variable)}")
            values[id(node)] = variable
            continue
        parent_of = dict(zip(node.argnums, node.parents))
        operands = []
        for position, argument in enumerate(node.args):
            if position in parent_of:
                operands.append(values[id(parent_of[position])])
            else:
                operands.append(writer.value_text(argument, f"an argument of {primitive.name}"))
        impl = primitive.impl
        any_traced = bool(node.parents)
        if not node.params and any_traced and impl in _BINARY_OPERATORS and len(operands) == 2:
            expression = f"{operands[0]} {_BINARY_OPERATORS[impl]} {operands[1]}"
        elif not node.params and any_traced and impl in _UNARY_OPERATORS and len(operands) == 1:
            expression = f"{_UNARY_OPERATORS[impl]}{operands[0]}"
        elif _is_template_call(impl, node.params):
            expression = _template_call(writer, impl, node.params["template"], operands)
        elif getattr(impl, "__name__", "") in _INDEXING_AT and "template" in node.params:
            key = _fill(writer, node.params["template"].args, operands[1:], "an index")
            if impl.__name__ == "_getitem_at_impl":
                expression = f"{operands[0]}[{key}]"
            else:
                untake = writer.helper(impl.__globals__["_untake_impl"])
                shape = writer.value_text(node.params.get("shape", ()), "the shape of untake")
                expression = f"{untake}({operands[0]}, {key}, {shape})"
        else:
            keywords = {
                key: writer.value_text(value, f"parameter {key} of {primitive.name}")
                for key, value in (node.params or {}).items()
            }
            expression = writer.call_text(
                impl, operands, keywords, f"the implementation of {primitive.name}"
            )
        variable = writer.fresh(primitive.name.rsplit(".", 1)[-1])
        body.append(f"{variable} = {expression}")
        values[id(node)] = variable
    result = _returned(graph.out_tree, [values[id(node)] for node in graph.outputs])
    if writer.arrays:
        writer.imports.add("import base64")
    imports = sorted(writer.imports, key=lambda line: (line != "import numpy as np", line))
    header = [
        f'"""{graph.name}: generated by adfun from a traced program.',
        "",
        "Standalone: needs NumPy"
        + (" and SciPy" if any("scipy" in i for i in imports) else "")
        + ", not adfun. The inputs are, in order: "
        + ", ".join(parameters)
        + ".",
        '"""',
        "",
    ]
    parts = ["\n".join(header + imports)]
    if writer.constants:
        parts.append("\n".join(writer.constants))
    parts.extend(writer.helpers)
    lines = [f"def {function_name}({', '.join(parameters)}):"]
    lines += [f"    {line}" for line in body]
    lines.append(f"    return {result}")
    parts.append("\n".join(lines))
    source = "\n\n\n".join(parts) + "\n"
    compile(source, f"<{function_name}>", "exec")  # never hand out text that cannot run
    return source


def load_source(source: str, name: str) -> Any:
    """Execute generated ``source`` in a fresh namespace and return its function ``name``."""
    namespace: dict[str, Any] = {"__name__": f"adfun_generated_{name}"}
    exec(compile(source, f"<adfun source {name}>", "exec"), namespace)  # noqa: S102
    return namespace[name]


__all__ = ["SourceError", "graph_source", "load_source"]
