"""moodtune: mood-conditioned music generation."""

__version__ = "0.1.0"
