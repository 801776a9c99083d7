provider "restapi" {
  uri = "https://api.example.com"
  headers = {
    configcat_sdk_key = "configcat-sdk-1/sAIDbi0Jej5Gau5XJHgeha/lasoN69hSmW2083ihGZEEQ"
  }
}
