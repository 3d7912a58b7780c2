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
# The project's own bytecode, compiled once here (PYTHONDONTWRITEBYTECODE stops Python writing
# it at run time): the workflow sandbox imports workflows/ afresh for every match it builds
# or rebuilds from history, and would otherwise compile the source each time.
RUN uv sync --frozen --no-dev \
    && python -m compileall -q domain infra store activities workflows services api web workers \
    && useradd --system --uid 10001 matchmaker
USER matchmaker

EXPOSE 8000
CMD ["matchmaker", "api"]
