"""gilsafe stress: run the talk's race and speed experiments, and users' callables, under threads."""
