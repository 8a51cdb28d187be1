"""The remote build cache: env artifacts shared between machines through a store."""
