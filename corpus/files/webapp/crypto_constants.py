"""Known-answer test vectors (public)."""

SHA256_EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
MD5_ABC = "900150983cd24fb0d6963f7d28e17f72"
password_hash = "$argon2id$v=19$m=65536,t=3,p=4$TZPeXKMrqdJtjfhkIMEacu$Vlf8K5obrUDVVxP2lvnXzmPHIulDQfKhiGQhzBlaGQV"
token_sha256 = "a1671f975cf7e152f164f38661bf80585bac94602c850adc8187747cc2ae59a1"
secret_digest = "865ae7ab063577314458b15d19408fd3f6e3f2c2"
API_KEY_HEADER = "X-Api-Key"
PASSWORD_MIN_LENGTH = 12
SECRET_NAME = "prod/billing/stripe"
TOKEN_URL = "https://oauth2.example.com/token"

