"""The machinery under the MXNet-style imperative layer (contexts, recording scopes)."""
