"""One Engine per model family, behind one interface (see base.py)."""
