"""Conversations and messages: the use cases (send, regenerate, edit, stop, rename,
delete), their JSON API and pages, serializers, search and saved instructions.
"""
