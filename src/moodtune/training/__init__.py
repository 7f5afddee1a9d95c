"""Lightning training wrappers, trainer set-up and callbacks."""
