"""Answer kinds: one module each, chosen by message types in their registration."""
