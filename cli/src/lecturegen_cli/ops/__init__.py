"""Operating a run: `status` (with consumer lag), the dead letters, `redrive` and the projector's
`rebuild`."""
