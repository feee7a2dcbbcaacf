"""The one worker runtime every media worker runs (DESIGN §4, §6)."""
