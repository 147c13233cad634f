"""The REST plumbing every app's API shares: the base viewset, permissions, errors, schema."""
