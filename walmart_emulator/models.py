"""Models of the walmart_emulator app."""
