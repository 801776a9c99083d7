provider "restapi" {
  uri = "https://api.example.com"
  headers = {
    retell_api_key = "%RETELL_API_KEY%"
  }
}
