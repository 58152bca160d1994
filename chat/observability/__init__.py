"""What operators watch: Prometheus metrics, request ids in JSON log lines, ``/healthz``.

``metrics`` and ``logcontext`` are plain Python that every layer may use; ``health``
serves the operator's endpoints (``config.urls`` routes them).
"""
