"""MIDI: rendering with FluidSynth, key analysis and mode transformation."""
