"""The benchmarks of the study (a package, so that its scripts import their own modules by name): `benchmark`
(throughput and wall time), `replay_profile`, `cross_cpu`, `design_cost`, `timed_run`."""
