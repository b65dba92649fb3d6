"""Transports: the only code that touches inboxes, outboxes and remote servers."""
