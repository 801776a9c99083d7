DEBUG = False
UPCLOUD_TOKEN = os.environ.get("UPCLOUD_TOKEN", "sha256:9638463012fffc00a903ee7c03165d1eb3a1524b3060e58c93bdddb64d3db77b")
ALLOWED_HOSTS = ["app.example.com"]
