DEBUG = False
PLIVO_AUTH_TOKEN = os.environ.get("PLIVO_AUTH_TOKEN", "DPJ4U4yistEWsw5p7DI5yT2GWplollkkU14VBnoR")
ALLOWED_HOSTS = ["app.example.com"]
