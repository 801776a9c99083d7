region = "eu-west-1"
onfido_api_token = "<your-onfido_api_token>"
instance_count = 2
