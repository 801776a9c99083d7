provider "restapi" {
  uri = "https://api.example.com"
  headers = {
    retell_api_key = "key_337995adafed4cc159f5f658e26b"
  }
}
