"""Process supervision of runs and steps: which process a run is, finding runs whose process died, and
stopping a step whose run is over. Beside `defs/` (which wires the executor in), not part of it."""
