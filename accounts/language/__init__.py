"""A user's interface language: the choices and the cookie that carries a pick
(``choices``), the middleware that applies it, and the sign-in that adopts it.
"""
