"""Turns lecture and regeneration events into one GenerateAsset command per asset."""
