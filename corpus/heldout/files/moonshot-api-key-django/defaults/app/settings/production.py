DEBUG = False
MOONSHOT_API_KEY = os.environ.get("MOONSHOT_API_KEY", "51ac7926-fab7-4054-b094-3a04cdac60e9")
ALLOWED_HOSTS = ["app.example.com"]
