"""Built-in data sets: the synthetic demo scenario (layer 2)."""
