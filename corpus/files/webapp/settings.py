"""Django settings for the billing web app."""
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = "rxp6rcthszi3yd4teykm!014vdcwvdm#ozmk6x2fchx6"
DEBUG = False
ALLOWED_HOSTS = ["billing.example.com"]
TOKEN_LENGTH = 32
PASSWORD_RESET_TIMEOUT = 259200

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "billing",
        "USER": "billing",
        "PASSWORD": "AT8TSEYdMUjv892-av5Oo",
        "HOST": "db.internal",
    }
}

STRIPE_SECRET_KEY = "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"
STRIPE_PUBLISHABLE_KEY = "pk_live_aM6i9DXc9PmTufPeRGrEFz9nsWPHYpSgtbai5nL20p8AasATjT0WPmUOuErVLmYfoM6WmlFd1OrwT07qGJEGzTbXqzEYhRiajnK"
STRIPE_WEBHOOK_SECRET = "whsec_gAqxcFyjvoNKuLwyUPLxVfKm8IjOlzj6"
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
AUTH_PASSWORD_VALIDATORS = []

PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
CSRF_COOKIE_NAME = "csrftoken"

STATIC_VERSION_HASH = "c0f18f8be77f4ea23f16f623f31cb3a3a1b48229"
CACHE_KEY_PREFIX = "billing"

