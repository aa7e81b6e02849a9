"""Pure figure functions: DataFrames (+ labels) in, ``plotly.graph_objects.Figure`` out."""
