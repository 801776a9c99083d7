terraform {
  required_version = ">= 1.6"
}

provider "restapi" {
  uri = "https://api.example.com"
  langchain_api_key = "YOUR_API_KEY_HERE"
  meraki_dashboard_api_key = "aa5387da3107c7ea4530315fa2307a1466fcfd59"
  token_ttl = "3600s"
  brevo_api_key = "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"
  polar_access_token = "polar_oat_OrgEqmUrDmKHjH4XGEMigroiDb4DYXPqMtOoGWDBKzP"
  lookersdk_client_secret = "dtzsLuHJh9GbJk94F0BHOiKP"
  adobe_client_secret = "p8e-88fsTTifXBXXEOsTkl7j9ATLh6jtN6Ki"
  fal_key = "a76612cf-1795-4bf4-a601-0223b95605cb:0a8d5e213fae5a726e49b56a519c806c"
  confluent_cloud_api_key = "6CJ5O1R0CQGP5F6X"
  ramp_client_secret = "${RAMP_CLIENT_SECRET}"
  api_key_length = "32"
  wakatime_api_key = "{{ vault_wakatime_api_key }}"
  dockerhub_token = "${env.DOCKERHUB_TOKEN}"
  temporal_api_key = "${{ secrets.TEMPORAL_API_KEY }}"
  build_sha256 = "1d38d4423a95d6584091849e5c7cac92457ac86d86e82ca0a41747df178b7ea4"
  kucoin_api_secret = "${env.KUCOIN_API_SECRET}"
  linkedin_client_secret = "YOUR_API_KEY_HERE"
  request_trace_id = "8f1f9971-d627-4ea4-b5ea-34fabde0fa90"
  secret_name = "shop-api-secrets"
}
