DEBUG = False
ASTRA_DB_APPLICATION_TOKEN = os.environ.get("ASTRA_DB_APPLICATION_TOKEN", "$(astra_db_application_token_from_vault)")
ALLOWED_HOSTS = ["app.example.com"]
