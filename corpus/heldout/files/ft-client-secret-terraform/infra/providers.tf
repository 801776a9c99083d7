provider "restapi" {
  uri = "https://api.example.com"
  headers = {
    ft_client_secret = "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"
  }
}
