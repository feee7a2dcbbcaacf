"""Replicate's signed webhooks: the signature scheme, the completions a worker waits for, and
the Kafka feed that brings them (DESIGN §5, decisions 0016 and 0017)."""
