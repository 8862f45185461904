"""run_pytest.py: meson's entry to the Python tests: runs pytest on the arguments, or skips
(exit 77, meson's skip status) with a clear message when pytest or NumPy is not installed."""

import importlib.util
import sys

for module, package in (("pytest", "python3-pytest"), ("numpy", "python3-numpy")):
    if importlib.util.find_spec(module) is None:
        print("SKIP: %s is not installed (Debian package %s; scripts/install-deps installs it)"
              % (module, package))
        sys.exit(77)

import pytest  # noqa: E402

sys.exit(pytest.main(["-p", "no:cacheprovider"] + sys.argv[1:]))
