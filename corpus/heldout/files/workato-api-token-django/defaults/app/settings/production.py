DEBUG = False
WORKATO_API_TOKEN = os.environ.get("WORKATO_API_TOKEN", "<your-workato_api_token>")
ALLOWED_HOSTS = ["app.example.com"]
