"""In-place writes to and GIL-releasing reads of NumPy / torch / CuPy arrays, for GS301-GS303.

Which state an expression names, and whether it is an array, is the model's business; this module
knows the libraries' in-place spellings and which probed call a write or read amounts to.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import libcst as cst

from gilsafe import gil_data
from gilsafe.model import ModuleModel, SharedState

# ndarray methods that change the array itself.
NUMPY_INPLACE_METHODS = frozenset({"sort", "fill", "resize", "put", "partition", "itemset", "setfield", "byteswap"})
# Functions whose first argument is written: (library function) -> the probed call it amounts to.
WRITES_FIRST_ARGUMENT = {
    "numpy.copyto": "numpy.copyto",
    "numpy.put": "numpy.copyto",
    "numpy.place": "numpy.copyto",
    "numpy.putmask": "numpy.copyto",
    "numpy.fill_diagonal": "numpy.copyto",
    "cupy.copyto": "cupy.copyto",
    "torch.Tensor.copy_": "torch.Tensor.add_",
}
OPERATORS = {
    cst.AddAssign: "add",
    cst.SubtractAssign: "add",
    cst.MultiplyAssign: "multiply",
    cst.DivideAssign: "multiply",
    cst.PowerAssign: "multiply",
    cst.MatrixMultiplyAssign: "dot",
    cst.Add: "add",
    cst.Subtract: "add",
    cst.Multiply: "multiply",
    cst.Divide: "multiply",
    cst.MatrixMultiply: "dot",
}
TORCH_NAMES = {"add": "torch.add", "multiply": "torch.mul", "dot": "torch.dot"}


@dataclass(frozen=True)
class ArrayAccess:
    node: cst.CSTNode  # the statement or call, for positions and locks
    array: cst.BaseExpression  # the array expression written or read
    state: SharedState
    library: str  # numpy, torch, cupy
    call: str  # the probed call this amounts to ("numpy.add"), for citing the data
    partitioned: bool = False  # a slice chosen by the function's arguments
    how: str = ""  # "+=", "out=", the method name, "slice store"


def _state(model: ModuleModel, expr: cst.BaseExpression) -> tuple[SharedState, str] | None:
    state = model.object_state(expr)
    if state is None:
        return None
    library = model.array_library(state)
    return (state, library) if library else None


def _probed(library: str, operation: str) -> str:
    if library == "torch":
        return TORCH_NAMES.get(operation, f"torch.{operation}")
    return f"{library}.{operation}"


def writes(model: ModuleModel, node: cst.CSTNode) -> Iterator[ArrayAccess]:
    """The in-place array writes `node` makes (AugAssign, Assign to a subscript, or a Call)."""
    if isinstance(node, cst.AugAssign):
        found = _state(model, node.target)
        if found:
            state, library = found
            operation = OPERATORS.get(type(node.operator), "add")
            partitioned = isinstance(node.target, cst.Subscript) and model.partitioned(node.target)
            yield ArrayAccess(node, node.target, state, library, _probed(library, operation), partitioned, model.code_for(node.operator).strip())
    elif isinstance(node, cst.Assign):
        for target in node.targets:
            if isinstance(target.target, cst.Subscript) and (found := _state(model, target.target)):
                state, library = found
                yield ArrayAccess(node, target.target, state, library, _probed(library, "copyto"), model.partitioned(target.target), "slice store")
    elif isinstance(node, cst.Call):
        names = model.qualified_names(node.func)
        for arg in node.args:
            if arg.keyword is not None and arg.keyword.value == "out" and (found := _state(model, arg.value)):
                state, library = found
                called = next((n for n in sorted(names) if n.startswith(library + ".")), _probed(library, "add"))
                partitioned = isinstance(arg.value, cst.Subscript) and model.partitioned(arg.value)
                yield ArrayAccess(node, arg.value, state, library, called, partitioned, "out=")
        writer = next((WRITES_FIRST_ARGUMENT[n] for n in names if n in WRITES_FIRST_ARGUMENT), None)
        if writer is not None and node.args and (found := _state(model, node.args[0].value)):
            state, library = found
            first = node.args[0].value
            partitioned = isinstance(first, cst.Subscript) and model.partitioned(first)
            yield ArrayAccess(node, first, state, library, writer, partitioned, model.code_for(node.func))
        if isinstance(node.func, cst.Attribute) and (found := _state(model, node.func.value)):
            state, library = found
            method = node.func.attr.value
            inplace = method in NUMPY_INPLACE_METHODS if library in ("numpy", "cupy") else (method.endswith("_") and not method.startswith("_"))
            if inplace:
                receiver = node.func.value
                partitioned = isinstance(receiver, cst.Subscript) and model.partitioned(receiver)
                if library == "torch":
                    call = f"torch.Tensor.{method}" if gil_data.claim(f"torch.Tensor.{method}") else "torch.Tensor.add_"
                else:
                    call = _probed(library, "sort") if method in ("sort", "partition") else _probed(library, "copyto")
                yield ArrayAccess(node, receiver, state, library, call, partitioned, f".{method}()")


def reads(model: ModuleModel, node: cst.CSTNode) -> Iterator[ArrayAccess]:
    """Calls and operators that read an array through a call that released the GIL in the probe."""
    if isinstance(node, cst.Call):
        names = model.qualified_names(node.func)
        candidates: list[tuple[str, cst.BaseExpression]] = []
        for name in names:
            for arg in node.args:
                if arg.keyword is None:
                    candidates.append((name, arg.value))
        if isinstance(node.func, cst.Attribute):  # a.sum() reads a as numpy.sum does
            receiver = node.func.value
            found = _state(model, receiver)
            if found:
                candidates.append((f"{found[1]}.{node.func.attr.value}", receiver))
        for name, expr in candidates:
            found = _state(model, expr)
            if found and name in gil_data.releasing_calls(found[1]):
                partitioned = isinstance(expr, cst.Subscript) and model.partitioned(expr)
                yield ArrayAccess(node, expr, found[0], found[1], name, partitioned, model.code_for(node.func))
    elif isinstance(node, cst.BinaryOperation) and type(node.operator) in OPERATORS:
        for side in (node.left, node.right):
            found = _state(model, side)
            if found:
                call = _probed(found[1], OPERATORS[type(node.operator)])
                if call in gil_data.releasing_calls(found[1]):
                    yield ArrayAccess(node, side, found[0], found[1], call, how=model.code_for(node.operator).strip())


def why_it_interleaves(call: str) -> str:
    """The measured reason, from the probe data, or what the library documents when not probed."""
    claim = gil_data.claim(call)
    if claim is not None:
        return claim.sentence()
    library = call.split(".")[0]
    if library == "cupy":
        return "CuPy gives the GIL up while it launches kernels and waits for the device (not probed here: no GPU)"
    return f"{library} releases the GIL inside its loops"
