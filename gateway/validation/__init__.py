"""Validation of canonical documents: pure functions from the model to issues."""
