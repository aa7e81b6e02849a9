"""``imon init``: a draft profile from an office's delivered files (README, "Eigene Daten
laden"). :mod:`.sniff` reads a table's text format, :mod:`.shape` finds its columns,
dates and levels, :mod:`.vocabulary` maps variable names to the catalogue's groups, and
:mod:`.draft` writes the commented profile and the summary of decisions and questions.
"""
