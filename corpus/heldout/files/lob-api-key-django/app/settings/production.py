DEBUG = False
LOB_API_KEY = os.environ.get("LOB_API_KEY", "live_c0d04b6e1ff8e2186bcd0302b089a4a3fe9")
ALLOWED_HOSTS = ["app.example.com"]
