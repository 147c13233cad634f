# Front-end libraries from the npm registry, pinned by package-lock.json.
FROM node:20-slim AS assets
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error \
    && mkdir -p static/vendor \
    && cp node_modules/chart.js/dist/chart.umd.min.js static/vendor/

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
# The dependencies named (with version ranges) in pyproject.toml, gunicorn among them; the
# project itself has no packages to install (`packages = []`): the app runs from /app.
COPY pyproject.toml ./
RUN pip install --no-cache-dir .
COPY . .
COPY --from=assets /app/static/vendor/ static/vendor/
RUN DJANGO_ALLOW_DEV_SECRET=1 python manage.py collectstatic --noinput \
    && useradd --system --home-dir /app app && chown -R app /app/var
# The commit the image was built from (the page footer and X-App-Version show it).
ARG APP_COMMIT=""
ENV APP_COMMIT=${APP_COMMIT}
USER app
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--config", "python:config.gunicorn", "--bind", "0.0.0.0:8000"]
