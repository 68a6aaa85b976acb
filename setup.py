"""Only here for the C extension of kernels/ (pyproject.toml holds everything else)."""
from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "gilsafe.kernels._cext",
            sources=["kernels/cext.c"],
            extra_compile_args=["-O3"],
            # A machine without a C compiler still gets gilsafe; the cext backend then
            # reports itself as unavailable instead of breaking the install.
            optional=True,
        )
    ]
)
