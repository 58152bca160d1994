"""Bytes on the wire: HTTP/1.1 through aiohttp under httpx's API (``httpx_aiohttp``), SSE
parsed per network read (``sse``), and JSON encoded and decoded fast (``body``,
``fastjson``).
"""
