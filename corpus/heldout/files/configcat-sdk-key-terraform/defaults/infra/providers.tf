provider "restapi" {
  uri = "https://api.example.com"
  headers = {
    configcat_sdk_key = "sha256:65327e771e0e6df187e42a30aeeac26fdd221543235bf315f59e5f45dfcd13f2"
  }
}
