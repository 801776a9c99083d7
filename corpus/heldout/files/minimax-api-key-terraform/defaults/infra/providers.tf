provider "restapi" {
  uri = "https://api.example.com"
  headers = {
    minimax_api_key = "${MINIMAX_API_KEY}"
  }
}
