"""Measured evaluation: reconstruction, mood control, FAD, symbolic metrics."""
