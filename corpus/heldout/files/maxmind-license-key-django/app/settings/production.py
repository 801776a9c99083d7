DEBUG = False
MAXMIND_LICENSE_KEY = os.environ.get("MAXMIND_LICENSE_KEY", "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")
ALLOWED_HOSTS = ["app.example.com"]
