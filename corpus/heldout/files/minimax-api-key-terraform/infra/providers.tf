provider "restapi" {
  uri = "https://api.example.com"
  headers = {
    minimax_api_key = "sk-api-WhrUcTcpRsyjWNVbkdCN0cIo2ehdv1GZs_f6jZY3hXiE8x_IeDhxEi3o3jLdyA1lt1CTkIfdtjYx1osQjpozo8VKCQCEoUucFHRD0aCxqKCgp0-RqEtgSxS"
  }
}
