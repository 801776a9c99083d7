DEBUG = False
MOONSHOT_API_KEY = os.environ.get("MOONSHOT_API_KEY", "sk-SN1ajNWMqGXO0Es8A2r8hJnk6nKUoOsSW2ZaVkt88AQZMxpw")
ALLOWED_HOSTS = ["app.example.com"]
