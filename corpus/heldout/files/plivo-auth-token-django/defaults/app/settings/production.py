DEBUG = False
PLIVO_AUTH_TOKEN = os.environ.get("PLIVO_AUTH_TOKEN", "REPLACE_ME")
ALLOWED_HOSTS = ["app.example.com"]
