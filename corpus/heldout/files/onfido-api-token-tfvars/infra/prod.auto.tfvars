region = "eu-west-1"
onfido_api_token = "api_live.qrqd-TYyrCj.IvSMdmAhrF8Q_fUkykc8fN4k6KANtWXt"
instance_count = 2
