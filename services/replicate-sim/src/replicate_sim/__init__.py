"""A local Replicate-compatible server that renders real media and fails on purpose."""
