DEBUG = False
UPCLOUD_TOKEN = os.environ.get("UPCLOUD_TOKEN", "ucat_GSTvYp612wO93UcZEythsIVSQTxa")
ALLOWED_HOSTS = ["app.example.com"]
