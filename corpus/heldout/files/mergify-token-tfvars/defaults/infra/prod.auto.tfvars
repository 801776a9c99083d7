region = "eu-west-1"
mergify_token = "REPLACE_ME"
instance_count = 2
