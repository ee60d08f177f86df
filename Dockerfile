FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_SETTINGS_MODULE=portal.settings.production
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends gettext && rm -rf /var/lib/apt/lists/*
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN SECRET_KEY=build ALLOWED_HOSTS=build python manage.py collectstatic --noinput -v0
RUN useradd --create-home cedar && mkdir -p /app/media /app/recordings && chown -R cedar /app/media /app/recordings
USER cedar
EXPOSE 8000
# The web server; the same image runs the two django-q2 clusters (docker-compose.yml):
# `Q_CLUSTER_NAME=lifecycle python manage.py qcluster` and `python manage.py qcluster`.
CMD ["gunicorn", "portal.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--threads", "4", "--access-logfile", "-"]
