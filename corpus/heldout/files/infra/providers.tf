terraform {
  required_version = ">= 1.6"
}

provider "restapi" {
  uri = "https://api.example.com"
  samsara_api_token = "samsara_api_ZeulCJUOgipPQtIIQKs5L7zmLbQZz7"
  fastly_api_token = "YOUR_API_KEY_HERE"
  ovh_application_secret = "dtzsLuHJh9GbJk94F0BHOiKP6IYzg99c"
  api_key_length = "32"
  lark_app_id = "cli_20a8d5e213fae5a7"
  polymarket_private_key = "${{ secrets.POLYMARKET_PRIVATE_KEY }}"
  gitter_token = "${env.GITTER_TOKEN}"
  token_ttl = "3600s"
  build_sha256 = "b4d27de22921e1085f818b96970153867bde09cdb7e6b67bf0cd4c621be0cd33"
  weatherstack_access_key = "aa5387da3107c7ea4530315fa2307a14"
  polar_access_token = "polar_oat_OrgEqmUrDmKHjH4XGEMigroiDb4DYXPqMtOoGWDBKzP"
  request_trace_id = "51245b20-56f6-4227-8804-e5571a76214f"
  nylas_api_key = "${NYLAS_API_KEY}"
  cursor_api_key = "key_2942df9554d349475b4cfff38779e8cff5cd2a45b5aed7c3027c17d09992831b"
  langchain_api_key = "YOUR_API_KEY_HERE"
  secret_name = "shop-api-secrets"
  dockerhub_token = "${env.DOCKERHUB_TOKEN}"
  data_gov_api_key = "TNG3cjF92o7BrUVA4KTc9qTg9KpF8QfV1XGx5jbp"
  voyage_api_key = "{{ vault_voyage_api_key }}"
}
