DEBUG = False
LOB_API_KEY = os.environ.get("LOB_API_KEY", "sha256:34bd2e51f678e8871cbfb3f47a55726d7576741c5ed718547f39dd591bebb5bc")
ALLOWED_HOSTS = ["app.example.com"]
