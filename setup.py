"""Build hook: a wheel carries the top-level ``assets/`` and ``saved_models/`` inside ``core/_shipped/``.

They stay top-level folders in the repository (the app, the scripts and the
tests use them there); ``core.resources.shipped`` finds them in either place.
Everything else about the package is in pyproject.toml.
"""
import os
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py

SHIPPED = ("assets", "saved_models")


class BuildPyWithShipped(build_py):
    """build_py that also copies the shipped folders into the built package (an editable install reads
    them from the checkout instead)."""

    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for name in SHIPPED:
            target = os.path.join(self.build_lib, "core", "_shipped", name)
            shutil.rmtree(target, ignore_errors=True)   # a model removed since the last build must not linger
            self.copy_tree(name, target)


setup(cmdclass={"build_py": BuildPyWithShipped})
