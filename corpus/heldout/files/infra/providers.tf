terraform {
  required_version = ">= 1.6"
}

provider "restapi" {
  uri = "https://api.example.com"
  lookersdk_client_secret = "YOUR_API_KEY_HERE"
  ebay_cert_id = "PRD-aa5387da3107-c7ea-4530-315f-a230"
  request_trace_id = "a6dade4e-ac09-4676-9e92-f3c0da8f411d"
  finnhub_api_key = "${env.FINNHUB_API_KEY}"
  secret_name = "shop-api-secrets"
  dockerhub_token = "${env.DOCKERHUB_TOKEN}"
  sendbird_app_id = "{{ vault_sendbird_app_id }}"
  token_ttl = "3600s"
  samsara_api_token = "samsara_api_ZeulCJUOgipPQtIIQKs5L7zmLbQZz7"
  polymarket_private_key = "${{ secrets.POLYMARKET_PRIVATE_KEY }}"
  polar_access_token = "polar_oat_OrgEqmUrDmKHjH4XGEMigroiDb4DYXPqMtOoGWDBKzP"
  cursor_api_key = "key_2942df9554d349475b4cfff38779e8cff5cd2a45b5aed7c3027c17d09992831b"
  lark_app_id = "cli_20a8d5e213fae5a7"
  voyage_api_key = "{{ vault_voyage_api_key }}"
  nylas_api_key = "${NYLAS_API_KEY}"
  linkedin_client_secret = "TNG3cjF92o7BrUVA"
  mux_token_id = "48956de3-65a4-4e45-8ec5-c9010e88ad1f"
  langchain_api_key = "YOUR_API_KEY_HERE"
  build_sha256 = "013063bc9f7e227bfd52d32d960a2524fd29c36cf0be66b5065e8e61c1b86f66"
  api_key_length = "32"
}
