DEBUG = False
INFLUX_TOKEN = os.environ.get("INFLUX_TOKEN", "zuM6hjQquh2nGshZpREyZA-7zAlFg2C8K5rlKY_UYD-esew7J1EzutXTDo4b38uEFNnuZ6QrXBZuPbwcDTXlFJ==")
ALLOWED_HOSTS = ["app.example.com"]
