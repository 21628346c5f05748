"""Demo and synthetic data: the demo station (`junkai demo`) and the synthetic prefecture for
benchmarks (`junkai synth`, `junkai synth-visits`). Apart from the apps they fill, so that no app
reaches up to the others through its demo."""
