"""The retention policy: purge old message text, reasoning and images; keep usage and cost."""

from .policy import RetentionReport, purge, purge_by_policy

__all__ = ["RetentionReport", "purge", "purge_by_policy"]
