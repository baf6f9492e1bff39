"""The lab: the simulator and the synthetic directory."""
