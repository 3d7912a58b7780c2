# The image the API, the worker and the migration job run from (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    PATH="/app/.venv/bin:${PATH}"

RUN pip install --no-cache-dir uv
WORKDIR /app

COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project

COPY domain ./domain
COPY infra ./infra
COPY store ./store
COPY activities ./activities
COPY workflows ./workflows
COPY services ./services
COPY api ./api
COPY web ./web
COPY workers ./workers
COPY migrations ./migrations
RUN uv sync --frozen --no-dev && useradd --system --uid 10001 matchmaker
USER matchmaker

EXPOSE 8000
CMD ["matchmaker", "api"]
