"""What an access to a NumPy / torch / CuPy array amounts to, for GS301-GS303: which probed library
call an in-place write or a read is, and what the probe data says about it releasing the GIL.

Whether the state is an array at all is a fact of the project pass (`ProjectFacts.value_kind`);
this module only knows the libraries' spellings and the data.
"""

from __future__ import annotations

from typing import NamedTuple

from gilsafe.lint import gil_data
from gilsafe.lint.summaries.accesses import Access, AccessKind, Change
from gilsafe.lint.summaries.project import ProjectFacts

LIBRARIES = ("numpy", "torch", "cupy")
OPERATORS = {"+=": "add", "-=": "add", "*=": "multiply", "/=": "multiply", "**=": "multiply", "@=": "dot", "=": "add", "//=": "multiply"}
TORCH_NAMES = {"add": "torch.add", "multiply": "torch.mul", "dot": "torch.dot"}


class ArrayUse(NamedTuple):
    library: str  # numpy, torch, cupy
    call: str  # the probed call it amounts to ("numpy.add"), for citing the data
    how: str  # "+=", "out=", ".fill()", "slice store"


def _probed(library: str, operation: str) -> str:
    if library == "torch":
        return TORCH_NAMES.get(operation, f"torch.{operation}")
    return f"{library}.{operation}"


def library_of(project: ProjectFacts, access: Access) -> str | None:
    kind = project.value_kind(project.canonical(access.key))
    return kind if kind in LIBRARIES else None


_MAY_WRITE = frozenset({AccessKind.RMW, AccessKind.CHANGE, AccessKind.CHECK_THEN_ACT, AccessKind.INPLACE})


def write(project: ProjectFacts, access: Access) -> ArrayUse | None:
    """The in-place array write an access makes, if it is one."""
    if access.kind not in _MAY_WRITE:
        return None
    library = library_of(project, access)
    if library is None:
        return None
    if access.kind is AccessKind.RMW:
        if access.detail == "=":
            return None  # `a = a + b` makes a new array and rebinds the name: nothing changes in place
        return ArrayUse(library, _probed(library, OPERATORS.get(access.detail, "add")), access.detail)
    if access.kind in (AccessKind.CHANGE, AccessKind.CHECK_THEN_ACT) and access.change is Change.ITEM_STORE:
        return ArrayUse(library, _probed(library, "copyto"), "slice store")
    if access.kind in (AccessKind.CHANGE, AccessKind.CHECK_THEN_ACT) and access.change is Change.REORDER and access.detail == "sort":
        return ArrayUse(library, _probed(library, "sort"), ".sort()")
    if access.kind is AccessKind.INPLACE:
        detail = access.detail
        if detail.startswith("out=:"):
            called = detail[len("out=:"):]
            return ArrayUse(library, called if called.startswith(library + ".") else _probed(library, "add"), "out=")
        if "." in detail:
            return ArrayUse(library, detail, detail)
        if library == "torch":
            call = f"torch.Tensor.{detail}" if gil_data.claim(f"torch.Tensor.{detail}") else "torch.Tensor.add_"
            return ArrayUse(library, call, f".{detail}()")
        call = _probed(library, "sort") if detail in ("sort", "partition") else _probed(library, "copyto")
        return ArrayUse(library, call, f".{detail}()")
    return None


def read(project: ProjectFacts, access: Access) -> ArrayUse | None:
    """A read of an array by a call the probe saw release the GIL."""
    if access.kind is not AccessKind.READ or not access.detail:
        return None
    library = library_of(project, access)
    if library is None:
        return None
    detail = access.detail
    if detail.startswith("method:"):
        call = f"{library}.{detail[len('method:'):]}"
    elif detail.startswith("operator:"):
        call = _probed(library, detail[len("operator:"):])
    else:
        call = detail
    if call not in gil_data.releasing_calls(library):
        return None
    return ArrayUse(library, call, detail)


def why_it_interleaves(call: str) -> str:
    """The measured reason, from the probe data, or what the library documents when not probed."""
    claim = gil_data.claim(call)
    if claim is not None:
        return claim.sentence()
    library = call.split(".")[0]
    if library == "cupy":
        return "CuPy gives the GIL up while it launches kernels and waits for the device (not probed here: no GPU)"
    return f"{library} releases the GIL inside its loops"


def unguarded_writes(project: ProjectFacts, module, libraries: tuple[str, ...]):
    """(access, use, reason parts, trace) for in-place array writes outside a lock that another
    thread's access (or the same code in another thread) can overlap; partitioned slices excepted."""
    from gilsafe.lint.messages import trace_for

    for access in module.accesses:
        use = write(project, access)
        if use is None or use.library not in libraries or access.partitioned or project.confined(access.key, access.function):
            continue
        key = project.canonical(access.key)
        held = project.held(module, access)
        declared = project.guard_declared(key)
        if declared is not None and declared not in held and project.contexts(access.function):
            yield access, use, f"without `{declared.label}`, which its `guarded-by` comment names", trace_for(project, access)
            continue
        if held:
            continue
        for other in project.accesses.get(key, ()):
            if other[1].kind is AccessKind.READ and read(project, other[1]) is None and other[1] is not access:
                continue
            overlap = project.overlap((module, access), other)
            if overlap is not None:
                yield access, use, "outside any lock", trace_for(project, access, overlap)
                break


def reads_while_written(project: ProjectFacts, module, libraries: tuple[str, ...]):
    """(read access, use, (write module, write access), overlap) for GIL-releasing reads of arrays
    another thread writes in place, with no lock held by both."""
    for access in module.accesses:
        use = read(project, access)
        if use is None or use.library not in libraries:
            continue
        key = project.canonical(access.key)
        for other in project.accesses.get(key, ()):
            written = write(project, other[1])
            if written is None or other[1].anchor == access.anchor and other[0] is module:
                continue
            if access.partitioned and other[1].partitioned:
                continue  # each thread reads and writes its own slice
            overlap = project.overlap((module, access), other)
            if overlap is not None:
                yield access, use, other, overlap
                break
