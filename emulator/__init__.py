"""hsmemu simulation kernel: virtual time, bus and memory, MPU, cores, SoC assembly, snapshots, CLI."""
