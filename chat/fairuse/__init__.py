"""Fair use: how much one user may ask of the workers and of their monthly allowance.

``admission`` admits a new reply (send rate, replies at once, reservations) under a lock
on the user's row; ``quota`` reckons the monthly token and money allowances of users and
of groups. The limits themselves come from the policy in force (``accounts.policy``).
"""
