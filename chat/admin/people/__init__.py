"""Users and groups in the admin: quota, legal hold, group policies and this month's spend
against them; every change leaves an audit trace.
"""

from chat.admin.people import policies, users

__all__ = ["policies", "users"]
