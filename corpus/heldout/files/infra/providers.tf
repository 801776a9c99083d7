terraform {
  required_version = ">= 1.6"
}

provider "restapi" {
  uri = "https://api.example.com"
  brevo_api_key = "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"
  coveralls_repo_token = "YOUR_API_KEY_HERE"
  sumologic_access_key = "dtzsLuHJh9GbJk94F0BHOiKP6IYzg99cao9jo01Ks1XKVkdjcWqlKqDMJOcHGbFd"
  api_key_length = "32"
  fal_key = "a76612cf-1795-4bf4-a601-0223b95605cb:0a8d5e213fae5a726e49b56a519c806c"
  temporal_api_key = "${{ secrets.TEMPORAL_API_KEY }}"
  jumpcloud_api_key = "${env.JUMPCLOUD_API_KEY}"
  token_ttl = "3600s"
  build_sha256 = "b4d27de22921e1085f818b96970153867bde09cdb7e6b67bf0cd4c621be0cd33"
  vt_api_key = "aa5387da3107c7ea4530315fa2307a1466fcfd59a7ec9d73ca8219861dfed60c"
  polar_access_token = "polar_oat_OrgEqmUrDmKHjH4XGEMigroiDb4DYXPqMtOoGWDBKzP"
  request_trace_id = "51245b20-56f6-4227-8804-e5571a76214f"
  ramp_client_secret = "${RAMP_CLIENT_SECRET}"
  adobe_client_secret = "p8e-88fsTTifXBXXEOsTkl7j9ATLh6jtN6Ki"
  langchain_api_key = "YOUR_API_KEY_HERE"
  secret_name = "shop-api-secrets"
  dockerhub_token = "${env.DOCKERHUB_TOKEN}"
  browserstack_access_key = "TNG3cjF92o7BrUVA4KTc"
  wakatime_api_key = "{{ vault_wakatime_api_key }}"
}
