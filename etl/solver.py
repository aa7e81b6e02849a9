"""A silent, single-threaded HiGHS model (highspy), shared by the protection LPs and the
attack audit.

HiGHS prints its banner from C++ when the first model of a process is made, before any
option can switch output off; the banner would land in the middle of the build's progress
display and in ``imon audit``'s output. The standard output file descriptor is pointed at
/dev/null while the model is made.
"""

from __future__ import annotations

import os
import sys

import highspy


def highs() -> highspy.Highs:
    """A new HiGHS model with all solver output off."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            model = highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    model.setOptionValue("output_flag", False)
    # HiGHS keeps one thread scheduler per process, made by the first model that runs; a
    # later model asking for another number of threads fails to solve. Every model of this
    # project uses one thread (the LPs are small; the build runs beside other work).
    model.setOptionValue("threads", 1)
    return model
