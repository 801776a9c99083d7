DEBUG = False
TCLI_AUTH_TOKEN = os.environ.get("TCLI_AUTH_TOKEN", "tss_wFOxKV0NTiduPHAzVH7W6SMnf7IG0TVu6TmPqFTy")
ALLOWED_HOSTS = ["app.example.com"]
