"""Share links: read-only snapshots behind a secret token, their owner's API and the
public page with server-side sanitized markdown.
"""
