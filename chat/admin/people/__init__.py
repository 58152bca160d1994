"""Users and groups in the admin: quota, legal hold, group policies and this month's spend
against them; every change leaves an audit trace.
"""
