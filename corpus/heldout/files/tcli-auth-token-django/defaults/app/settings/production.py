DEBUG = False
TCLI_AUTH_TOKEN = os.environ.get("TCLI_AUTH_TOKEN", "{{ .Values.tcli_auth_token }}")
ALLOWED_HOSTS = ["app.example.com"]
