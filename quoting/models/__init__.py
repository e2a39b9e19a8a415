"""Option pricing models."""
