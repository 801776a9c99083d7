provider "restapi" {
  uri = "https://api.example.com"
  headers = {
    ft_client_secret = "<your-ft_client_secret>"
  }
}
