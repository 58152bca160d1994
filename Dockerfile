FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PONDER_VAR_DIR=/var/lib/ponder
WORKDIR /app
COPY pyproject.toml README.md ./
COPY config ./config
COPY accounts ./accounts
COPY chat ./chat
COPY ponder_run ./ponder_run
COPY templates ./templates
COPY static ./static
COPY manage.py ./
RUN pip install -e . && \
    DJANGO_SECRET_KEY=build-only python manage.py collectstatic --noinput && \
    useradd --system --home /var/lib/ponder ponder && mkdir -p /var/lib/ponder && chown ponder /var/lib/ponder
USER ponder
EXPOSE 8000
CMD ["python", "-m", "config.webserver", "-e", "tcp:port=8000:interface=0.0.0.0:backlog=1024", "config.asgi:application"]
