"""Imports the native extension on first use, with a message that says how to get it."""

_native = None


class NativeModuleMissing(ImportError):
    pass


def native():
    global _native
    if _native is None:
        try:
            from . import _native as module
        except ImportError as error:
            raise NativeModuleMissing(
                "segsim._native is not built or not on the path: build the target segsim_python_native "
                "(cmake --build build/default --target segsim_python_native) and `. build/default/activate` "
                f"({error})") from error
        _native = module
    return _native


def native_exception(name):
    """The native exception class `name`, or a stand-in when the module is absent (never raised then)."""
    try:
        return getattr(native(), name)
    except NativeModuleMissing:
        return type(name, (RuntimeError if name == "SimulationError" else ValueError,), {})
