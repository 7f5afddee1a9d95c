"""Plain nn.Module model families (no training logic here)."""
