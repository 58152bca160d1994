"""Model Studio's two wire protocols: how each builds a request body and reads a chunk.

``dashscope`` (the native API) and ``openai_compat`` (the OpenAI-compatible one) turn a
``ChatRequest`` into JSON and SSE payloads into ``StreamEvent``s; ``shared`` holds what
both do alike.
"""
