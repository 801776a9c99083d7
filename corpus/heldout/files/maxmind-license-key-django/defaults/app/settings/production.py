DEBUG = False
MAXMIND_LICENSE_KEY = os.environ.get("MAXMIND_LICENSE_KEY", "$(maxmind_license_key_from_vault)")
ALLOWED_HOSTS = ["app.example.com"]
