"""Files for reports: Kaleido rendering, chart and table exports, downloads of the pages,
``imon export`` and ``imon values``."""
