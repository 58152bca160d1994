"""Conversations and messages: the use cases (send, regenerate, stop, rename, delete),
their JSON API and pages, serializers, and monthly quotas.
"""
