# The production image: one image for web (gunicorn), worker and beat.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_PYTHON_DOWNLOADS=never \
    PATH=/opt/venv/bin:$PATH

# WeasyPrint draws with Pango; DejaVu fonts for the PDF vouchers.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 \
      fonts-dejavu-core curl \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml uv.lock ./
RUN pip install --no-cache-dir uv \
 && uv sync --frozen --no-dev --no-install-project

COPY . .
RUN python -m config.compilemessages \
 && SECRET_KEY=build-only-collectstatic-key-that-is-long-enough-0123456789abcdef \
    ALLOWED_HOSTS=build BASE_URL=https://build.invalid DEMO_PAYMENTS=true python manage.py collectstatic --noinput \
 && useradd --system --home /app shop && mkdir -p /app/var/media && chown -R shop /app/var

USER shop
EXPOSE 8000
# gunicorn reads its worker count from WEB_CONCURRENCY: about 2 x cores + 1 sync workers per host.
ENV WEB_CONCURRENCY=3
# Binding, access and error logs (voucher codes and page tokens redacted) come from config/gunicorn_settings.py.
CMD ["gunicorn", "--config", "python:config.gunicorn_settings", "config.wsgi:application"]
