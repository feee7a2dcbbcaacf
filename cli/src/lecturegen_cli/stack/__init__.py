"""Running the stack on this machine: `up` (infrastructure, topics, the supervised services) and
`down`."""
