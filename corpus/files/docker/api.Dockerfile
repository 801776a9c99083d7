FROM python:3.12-slim
WORKDIR /app
COPY requirements.txt .
ENV NPM_TOKEN=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
ENV DB_PASSWORD Granite8748@granite*57
ENV PASSWORD_FILE=/run/secrets/db_password
ARG BUILD_TOKEN
RUN pip install --no-cache-dir -r requirements.txt
CMD ["gunicorn", "app:app"]
