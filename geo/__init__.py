"""Harewatch analysis library: hare coursing across seven police forces.

Pure functions and small classes over (Geo)DataFrames in British National
Grid (EPSG:27700). No user-interface code lives here.
"""

__version__ = "0.2.0"

__all__ = ["__version__"]
