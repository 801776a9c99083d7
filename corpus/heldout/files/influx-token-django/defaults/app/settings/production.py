DEBUG = False
INFLUX_TOKEN = os.environ.get("INFLUX_TOKEN", "REPLACE_ME")
ALLOWED_HOSTS = ["app.example.com"]
