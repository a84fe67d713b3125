"""One mapper per VSB message type; ``mappings.registry`` ties them to event codes."""
