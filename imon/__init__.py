"""The ``imon`` command (:mod:`imon.cli`): the one module that uses both ``etl`` and
``dashboards``."""
